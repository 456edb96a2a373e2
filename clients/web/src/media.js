// SPDX-License-Identifier: AGPL-3.0-or-later
// Images come from Synapse's authenticated media API: an <img src> cannot carry the
// access token, so the bytes are fetched with it and shown from a blob: URL.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";

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
