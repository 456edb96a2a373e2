// SPDX-License-Identifier: AGPL-3.0-or-later
// 语音 and 位置: recording a voice message in the composer (the browser's MediaRecorder;
// 发送 or 取消, sent by itself at 60 s), playing one (its bytes from the authenticated
// media API, played from a blob: URL, which the CSP's media-src allows), 转文字 (the
// speech-to-text module, docs/asr.md), and the location card and dialog (coordinates
// and a place name; no map tiles: the page's CSP allows no other origin, and the
// bureau's map service is not wired in yet).
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { call } from "./api.js";
import { fetchMedia } from "./media.js";
import { coordsText, locationContent, parseGeoUri, VOICE_MAX_MS, voiceSeconds } from "./rules.js";

// The first container this browser records in (Chromium: WebM/Opus).
function recorderType() {
  const types = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus", "audio/webm"];
  return types.find((t) => window.MediaRecorder && MediaRecorder.isTypeSupported(t)) || "";
}

export function VoiceRecorder({ disabled, onRecorded, onError }) {
  const [recording, setRecording] = useState(null); // {recorder, stream, started}
  const [now, setNow] = useState(Date.now());
  const keep = useRef(true);
  const current = useRef(null); // the recording, for the unmount below

  useEffect(() => {
    if (!recording) return undefined;
    const timer = setInterval(() => {
      setNow(Date.now());
      if (Date.now() - recording.started >= VOICE_MAX_MS) stop(true);
    }, 250);
    return () => clearInterval(timer);
  }, [recording]);
  // Leaving the chat while recording discards it and frees the microphone.
  useEffect(() => () => {
    keep.current = false;
    if (current.current && current.current.recorder.state !== "inactive") current.current.recorder.stop();
  }, []);

  async function start() {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const type = recorderType();
      const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
      const chunks = [];
      const started = Date.now();
      recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
      recorder.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        if (!keep.current) return;
        const mimetype = (recorder.mimeType || type || "audio/webm").split(";")[0];
        onRecorded(new Blob(chunks, { type: mimetype }), Math.min(Date.now() - started, VOICE_MAX_MS));
      };
      recorder.start(250);
      setNow(started);
      current.current = { recorder, stream, started };
      setRecording(current.current);
    } catch {
      onError("无法使用麦克风，请检查浏览器的麦克风权限");
    }
  }

  function stop(send) {
    if (!recording) return;
    keep.current = send;
    if (recording.recorder.state !== "inactive") recording.recorder.stop();
    current.current = null;
    setRecording(null);
  }

  if (!recording) {
    return html`<button type="button" class="tool link voice" disabled=${disabled || !window.MediaRecorder} onClick=${() => { keep.current = true; start(); }}>语音</button>`;
  }
  const seconds = Math.floor((now - recording.started) / 1000);
  return html`<span class="recording" role="status">
    <span class="rec-dot" aria-hidden="true"></span>录音中 ${seconds}″
    <button type="button" class="link" data-action="send-voice" onClick=${() => stop(true)}>发送</button>
    <button type="button" class="link" data-action="cancel-voice" onClick=${() => stop(false)}>取消</button>
  </span>`;
}

// Transcripts asked in this session, by event id.
const transcripts = new Map();

export function VoiceBubble({ client, content, eventId, roomId, canTranscribe }) {
  const [state, setState] = useState("idle"); // idle, playing, played
  const playing = state === "playing";
  const [error, setError] = useState("");
  const [text, setText] = useState(transcripts.get(eventId) || "");
  const audio = useRef(null);
  const seconds = voiceSeconds(content);
  useEffect(() => () => {
    if (audio.current) {
      audio.current.pause();
      URL.revokeObjectURL(audio.current.src);
    }
  }, []);

  async function toggle() {
    setError("");
    try {
      if (!audio.current) {
        const blob = await fetchMedia(client, content.url);
        audio.current = new Audio(URL.createObjectURL(blob));
        audio.current.onplay = () => setState("playing");
        audio.current.onpause = () => setState("played");
        audio.current.onended = () => setState("played");
      }
      if (audio.current.paused) await audio.current.play();
      else audio.current.pause();
    } catch (e) {
      setError(e.message || "无法播放");
    }
  }

  async function transcribe() {
    setError("");
    try {
      const answer = await call("POST", "/_jwwx/client/v1/asr/transcribe", { room_id: roomId, event_id: eventId }, client.getAccessToken());
      transcripts.set(eventId, answer.text);
      setText(answer.text);
    } catch (e) {
      setError(e.message);
    }
  }

  const width = 70 + Math.min(seconds || 1, 60) * 3;
  return html`<span class="voice-wrap">
    <button type="button" class=${`voice-bubble${playing ? " playing" : ""}`} style=${{ width: `${width}px` }} data-state=${state}
      aria-label=${`语音 ${seconds ?? ""}秒${playing ? "，播放中" : ""}`} onClick=${toggle}>
      <span class="voice-icon" aria-hidden="true">${playing ? "■" : "▶"}</span><span class="voice-len">${seconds ?? "?"}″</span>
    </button>
    ${canTranscribe && !text && eventId && html`<button type="button" class="link transcribe" onClick=${transcribe}>转文字</button>`}
    ${text && html`<span class="transcript">${text}</span>`}
    ${error && html`<span class="error">${error}</span>`}
  </span>`;
}

export function LocationCard({ content }) {
  const point = parseGeoUri(content.geo_uri || content["org.matrix.msc3488.location"]?.uri);
  const name = content.info?.description || content["org.matrix.msc3488.location"]?.description || "位置";
  return html`<span class="location-card">
    <span class="pin" aria-hidden="true"></span>
    <span class="location-main"><strong class="location-name">${name}</strong>
      <span class="location-coords">${point ? coordsText(point) : content.body}</span></span>
  </span>`;
}

// 发送位置: the browser's position (when it has one and the officer allows it), or
// coordinates typed in; a place name.
export function LocationDialog({ onSend, onClose }) {
  const [lat, setLat] = useState("");
  const [lon, setLon] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  function locate() {
    setError("");
    if (!navigator.geolocation) return setError("此浏览器无法获取位置");
    navigator.geolocation.getCurrentPosition(
      (p) => { setLat(p.coords.latitude.toFixed(6)); setLon(p.coords.longitude.toFixed(6)); },
      () => setError("无法获取当前位置，请检查浏览器的位置权限，或直接输入经纬度"),
      { timeout: 15000 },
    );
    return undefined;
  }
  const content = locationContent(lat, lon, name);
  return html`<div class="dialog-backdrop" onClick=${(e) => e.target === e.currentTarget && onClose()}>
    <div class="dialog location-dialog" role="dialog" aria-label="发送位置">
      <h3>发送位置</h3>
      <button type="button" class="link" onClick=${locate}>使用当前位置</button>
      <label>纬度<input name="lat" inputMode="decimal" value=${lat} onInput=${(e) => setLat(e.target.value)} /></label>
      <label>经度<input name="lon" inputMode="decimal" value=${lon} onInput=${(e) => setLon(e.target.value)} /></label>
      <label>地点名称<input name="place" maxLength="100" value=${name} onInput=${(e) => setName(e.target.value)} /></label>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="dialog-actions">
        <button type="button" class="link" onClick=${onClose}>取消</button>
        <button type="button" class="primary" disabled=${!content} onClick=${() => onSend(content)}>发送</button>
      </div>
    </div>
  </div>`;
}
