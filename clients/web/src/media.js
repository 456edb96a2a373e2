// SPDX-License-Identifier: AGPL-3.0-or-later
// Images come from Synapse's authenticated media API: an <img src> cannot carry the
// access token, so the bytes are fetched with it and shown from a blob: URL.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { durationText, fileSize } from "./rules.js";

export function AuthedImage({ client, mxc, alt, width = 360, height = 360 }) {
  const [url, setUrl] = useState(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let revoked = false;
    let objectUrl = null;
    const http = client.mxcUrlToHttp(mxc, width, height, "scale", false, true, true);
    if (!http) {
      setFailed(true);
      return undefined;
    }
    fetch(http, { headers: { Authorization: `Bearer ${client.getAccessToken()}` } })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(String(r.status)))))
      .then((blob) => {
        if (revoked) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      })
      .catch(() => !revoked && setFailed(true));
    return () => {
      revoked = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [mxc]);
  if (failed) return html`<span class="media-failed">[图片无法加载]</span>`;
  if (!url) return html`<span class="media-loading">图片加载中…</span>`;
  return html`<img class="message-image" src=${url} alt=${alt || "图片"} />`;
}

// The whole file, from the authenticated download endpoint: the server marks images and
// PDFs with this viewer's watermark when the policy's `media` is on (docs/watermark.md).
export async function fetchMedia(client, mxc) {
  const http = client.mxcUrlToHttp(mxc, undefined, undefined, undefined, false, true, true);
  if (!http) throw new Error("文件地址无效");
  const response = await fetch(http, { headers: { Authorization: `Bearer ${client.getAccessToken()}` } });
  if (!response.ok) {
    let message = `下载失败（${response.status}）`;
    try { message = (await response.json()).error || message; } catch { /* not JSON */ }
    throw new Error(message);
  }
  return response.blob();
}

// 下载: saved under the message's file name.
export async function saveMedia(client, mxc, name) {
  const blob = await fetchMedia(client, mxc);
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name || "文件";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// 图片预览: the full picture over the client, zoomed with the buttons or the wheel.
export function ImageViewer({ client, mxc, name, canSave, onClose }) {
  const [url, setUrl] = useState(null);
  const [error, setError] = useState("");
  const [zoom, setZoom] = useState(1);
  useEffect(() => {
    let objectUrl = null;
    let live = true;
    fetchMedia(client, mxc).then((blob) => {
      if (!live) return;
      objectUrl = URL.createObjectURL(blob);
      setUrl(objectUrl);
    }, (e) => live && setError(e.message));
    const onKey = (ev) => ev.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => {
      live = false;
      window.removeEventListener("keydown", onKey);
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [mxc]);
  const step = (factor) => setZoom((z) => Math.min(8, Math.max(0.25, z * factor)));
  return html`<div class="viewer" role="dialog" aria-label="图片预览" onWheel=${(e) => { e.preventDefault(); step(e.deltaY < 0 ? 1.25 : 0.8); }}>
    <div class="viewer-tools">
      <button type="button" onClick=${() => step(1.25)} aria-label="放大">＋</button>
      <span class="zoom">${Math.round(zoom * 100)}%</span>
      <button type="button" onClick=${() => step(0.8)} aria-label="缩小">－</button>
      <button type="button" onClick=${() => setZoom(1)}>原始大小</button>
      ${canSave && html`<button type="button" onClick=${() => saveMedia(client, mxc, name).catch((e) => setError(e.message))}>下载</button>`}
      <button type="button" onClick=${onClose} aria-label="关闭预览">关闭</button>
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="viewer-stage" onClick=${(e) => e.target === e.currentTarget && onClose()}>
      ${url && html`<img src=${url} alt=${name || "图片"} style=${{ transform: `scale(${zoom})` }} />`}
    </div>
  </div>`;
}

const POSTER_MAX = 480; // px, the poster frame's longer side

function once(target, name, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    target.addEventListener(name, () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

// 视频 before it is sent: its length and size in pixels (the browser decodes it) and a
// JPEG poster frame; what cannot be read here is left out (the video is sent anyway).
export async function probeVideo(file) {
  const found = { duration: null, w: 0, h: 0, poster: null };
  const url = URL.createObjectURL(file);
  const video = document.createElement("video");
  video.muted = true;
  video.preload = "metadata";
  try {
    video.src = url;
    await once(video, "loadedmetadata", 15000);
    if (!Number.isFinite(video.duration)) {
      // A recording without its length in the header (MediaRecorder's WebM): seeking
      // past the end makes the browser find it.
      video.currentTime = Number.MAX_SAFE_INTEGER;
      await once(video, "seeked", 15000);
    }
    if (Number.isFinite(video.duration)) found.duration = video.duration * 1000;
    found.w = video.videoWidth;
    found.h = video.videoHeight;
    video.currentTime = Math.min(0.1, (video.duration || 0) / 2);
    await once(video, "seeked", 15000);
    if (found.w > 0 && found.h > 0) {
      const scale = Math.min(1, POSTER_MAX / Math.max(found.w, found.h));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(found.w * scale);
      canvas.height = Math.round(found.h * scale);
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.8));
      if (blob) found.poster = { blob, w: canvas.width, h: canvas.height };
    }
  } catch { /* not decodable here: sent with what is known */ } finally {
    video.removeAttribute("src");
    video.load();
    URL.revokeObjectURL(url);
  }
  return found;
}

// A video message: the poster (or a dark frame) with ▶ and the length; a click fetches
// the video through the authenticated media API and plays it in place (a blob: URL, which
// the CSP's media-src allows); 下载 as the sharing policy says.
export function VideoBubble({ client, content, canSave, onSave }) {
  const [url, setUrl] = useState(null);
  const [state, setState] = useState("idle"); // idle | loading | failed
  const info = content.info || {};
  const width = Math.min(320, info.w || 320);
  const height = info.w && info.h ? Math.round((width * info.h) / info.w) : 180;
  useEffect(() => () => { if (url) URL.revokeObjectURL(url); }, [url]);
  async function play() {
    setState("loading");
    try {
      setUrl(URL.createObjectURL(await fetchMedia(client, content.url)));
      setState("idle");
    } catch {
      setState("failed");
    }
  }
  const length = durationText(info.duration);
  return html`<span class="video-bubble" style=${{ width: `${width}px` }}>
    ${url
      ? html`<video class="video-player" src=${url} controls autoplay playsinline
          controlsList=${canSave ? "" : "nodownload"} style=${{ width: `${width}px`, height: `${height}px` }}></video>`
      : html`<button type="button" class="video-poster" aria-label=${`播放视频 ${content.body}`} onClick=${play}
          disabled=${state === "loading"} style=${{ width: `${width}px`, height: `${height}px` }}>
          ${info.thumbnail_url && html`<${AuthedImage} client=${client} mxc=${info.thumbnail_url} alt="" width=${width * 2} height=${height * 2} />`}
          <span class="play-mark" aria-hidden="true">${state === "loading" ? "…" : "▶"}</span>
          ${length && html`<span class="video-length">${length}</span>`}
        </button>`}
    <span class="video-meta">${state === "failed" ? "视频无法加载" : fileSize(info.size)}
      ${canSave
        ? html`<button type="button" class="link download" onClick=${onSave}>下载</button>`
        : html`<span class="no-save" title="管理员已禁止保存文件到本机">禁止下载</span>`}</span>
  </span>`;
}
