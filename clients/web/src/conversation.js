// SPDX-License-Identifier: AGPL-3.0-or-later
// The right pane: the open chat's messages (text and images), older ones loaded when
// scrolled to the top, and the composer (Enter sends, Ctrl+Enter starts a new line).
import { html } from "htm/preact";
import { EventStatus } from "matrix-js-sdk";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { errorText, formatTime, isShown } from "./chats.js";
import { composerKey } from "./format.js";
import { AuthedImage } from "./media.js";

function dropUnsent(client, room) {
  for (const event of room.getLiveTimeline().getEvents()) {
    if (event.status === EventStatus.NOT_SENT) client.cancelPendingEvent(event);
  }
}

function Message({ client, event }) {
  const mine = event.getSender() === client.getUserId();
  const content = event.getContent();
  const name = event.sender?.name || event.getSender();
  const pending = event.status !== null && event.status !== undefined;
  const body = content.msgtype === "m.image" && content.url
    ? html`<${AuthedImage} client=${client} mxc=${content.url} alt=${content.body} />`
    : html`<span class="text">${content.body}</span>`;
  return html`<li class=${`message${mine ? " mine" : ""}${pending ? " pending" : ""}`} data-event-id=${event.getId()}>
    <span class="avatar" aria-hidden="true">${name.slice(0, 1)}</span>
    <div class="bubble-wrap">
      ${!mine && html`<span class="sender">${name}</span>`}
      <div class="bubble" title=${formatTime(event.getTs())}>${body}</div>
    </div>
  </li>`;
}

export function Conversation({ client, room, tick }) {
  const [draft, setDraft] = useState("");
  const [error, setError] = useState("");
  const [uploading, setUploading] = useState(false);
  const list = useRef(null);
  const stick = useRef(true); // keep the newest message in view unless scrolled up
  const events = room.getLiveTimeline().getEvents().filter(isShown);
  const last = events[events.length - 1];

  useEffect(() => {
    setDraft("");
    setError("");
    stick.current = true;
  }, [room.roomId]);

  // Reading the chat: a receipt for its newest event clears the unread badge.
  useEffect(() => {
    const newest = room.getLiveTimeline().getEvents().at(-1);
    if (newest && newest.getId() && !newest.status && room.getMyMembership() === "join"
        && room.getEventReadUpTo(client.getUserId()) !== newest.getId()) {
      client.sendReadReceipt(newest).catch(() => {});
    }
  }, [room.roomId, last && last.getId()]);

  useLayoutEffect(() => {
    if (stick.current && list.current) list.current.scrollTop = list.current.scrollHeight;
  });

  function onScroll(ev) {
    const el = ev.currentTarget;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop === 0 && room.getLiveTimeline().getPaginationToken("b")) {
      client.scrollback(room, 30).catch(() => {});
    }
  }

  async function send() {
    const text = draft.trim();
    if (!text) return;
    setError("");
    setDraft("");
    stick.current = true;
    try {
      await client.sendTextMessage(room.roomId, text);
    } catch (e) {
      // Refused (a filtered keyword, a muted group): the text goes back to the draft
      // and its local echo away, so nothing shows as if it had been sent.
      dropUnsent(client, room);
      setError(errorText(e));
      setDraft(text);
    }
  }

  // 图片: uploaded to the media repository, then sent as m.image with its size.
  async function sendImage(ev) {
    const file = ev.currentTarget.files[0];
    ev.currentTarget.value = "";
    if (!file) return;
    setError("");
    setUploading(true);
    stick.current = true;
    try {
      const info = { mimetype: file.type, size: file.size };
      try {
        const bitmap = await createImageBitmap(file);
        Object.assign(info, { w: bitmap.width, h: bitmap.height });
        bitmap.close();
      } catch { /* not decodable here: sent without its size */ }
      const { content_uri: url } = await client.uploadContent(file, { name: file.name, type: file.type });
      await client.sendMessage(room.roomId, { msgtype: "m.image", body: file.name, url, info });
    } catch (e) {
      dropUnsent(client, room);
      setError(errorText(e));
    } finally {
      setUploading(false);
    }
  }

  function onKeyDown(ev) {
    const action = composerKey(ev);
    if (action) ev.preventDefault();
    if (action === "send") send();
    if (action === "newline") setDraft(`${draft}\n`);
  }

  return html`<section class="conversation" aria-label=${room.name}>
    <header class="conversation-header"><h2>${room.name}</h2></header>
    <ol class="timeline" ref=${list} onScroll=${onScroll} aria-live="polite">
      ${events.map((event) => html`<${Message} key=${event.getId() || event.getTxnId()} client=${client} event=${event} tick=${tick} />`)}
    </ol>
    <footer class="composer">
      <div class="toolbar">
        <label class="tool">图片<input type="file" name="image" accept="image/*" onChange=${sendImage} disabled=${uploading} /></label>
        ${uploading && html`<span class="uploading" role="status">图片上传中…</span>`}
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <textarea name="message" aria-label="输入消息" placeholder="输入消息，Enter 发送，Ctrl+Enter 换行"
        value=${draft} onInput=${(e) => setDraft(e.target.value)} onKeyDown=${onKeyDown}></textarea>
      <button type="button" class="primary send" onClick=${send} disabled=${!draft.trim()}>发送(S)</button>
    </footer>
  </section>`;
}
