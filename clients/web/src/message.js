// SPDX-License-Identifier: AGPL-3.0-or-later
// One message of the timeline: its bubble (text, image, file card, article card), the
// quoted message of a reply, a voice message, a location card, 已编辑 after an edit, the reactions under it, the
// burn-after-read tag and "N人未读"; a recalled message leaves its grey line.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { formatTime, preview, recallLine } from "./chats.js";
import { cardLink, cardOf, formatTime as timeOf, mergedOf } from "./format.js";
import { AuthedImage, VideoBubble } from "./media.js";
import { LocationCard, VoiceBubble } from "./voice.js";
import {
  burnSecondsLeft, burnTtl, countdownText, fileSize, reactionSummary, sharingFor, stripReplyFallback, ttlName, unreadLabel,
} from "./rules.js";

export const keyOf = (event) => event.getId() || event.getTxnId();

// Who other than the sender has read the event: a joined member whose receipt is at it
// or later (the SDK's receipts, kept by /sync; a group's members are loaded when opened).
export function readers(room, event) {
  const id = event.getId();
  return room.getJoinedMembers()
    .map((m) => m.userId)
    .filter((u) => u !== event.getSender() && room.hasUserReadEvent(u, id));
}

// When the burn timer started, as this client first saw a reader's receipt (the server
// times it from the first receipt; this only shows the countdown).
const burnStarts = new Map();

function burnStart(room, event) {
  const id = event.getId();
  if (burnStarts.has(id)) return burnStarts.get(id);
  const who = readers(room, event);
  if (who.length === 0) return null;
  const times = who
    .map((u) => room.getReadReceiptForUserId(u)?.data?.ts)
    .filter((ts) => Number.isFinite(ts) && ts >= event.getTs());
  const start = Math.min(Date.now(), ...times);
  burnStarts.set(id, start);
  return start;
}

function BurnTag({ room, event, ttl }) {
  const [now, setNow] = useState(Date.now());
  const start = event.getId() && !event.status ? burnStart(room, event) : null;
  useEffect(() => {
    if (start === null) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [start]);
  const text = start === null ? `阅后即焚 · 读后${ttlName(ttl)}销毁` : countdownText(burnSecondsLeft(start, ttl, now));
  return html`<span class=${`burn-tag${start === null ? "" : " counting"}`} role="timer"><span class="burn-mark" aria-hidden="true">焚</span>${text}</span>`;
}

function FileCard({ content, canSave, onSave }) {
  return html`<span class="file-card">
    <span class="file-icon" aria-hidden="true">文件</span>
    <span class="file-main"><span class="file-name">${content.body}</span>
      <span class="file-size">${fileSize(content.info?.size)}</span></span>
    ${canSave
      ? html`<button type="button" class="link download" onClick=${onSave}>下载</button>`
      : html`<span class="no-save" title="管理员已禁止保存文件到本机">禁止下载</span>`}
  </span>`;
}

// A public account's push or an app's card: the first article large with its cover, the
// others as rows (WeChat's multi-article card); a link opens in a new window (the page's
// CSP allows no frames).
function Card({ client, card }) {
  const openLink = (url) => {
    const link = cardLink(url, window.location.origin, client.getAccessToken());
    if (link) window.open(link, "_blank", "noopener,noreferrer");
  };
  const [first, ...rest] = card.articles;
  const cover = (src) => (src.startsWith("mxc://")
    ? html`<${AuthedImage} client=${client} mxc=${src} alt="" width=${480} height=${270} />`
    : null); // only our own media: the CSP allows no other image origin
  return html`<div class=${`card ${card.kind}`}>
    ${card.preview && html`<span class="card-preview">预览</span>`}
    <button type="button" class="card-main" onClick=${() => openLink(first.url)} disabled=${!first.url}>
      ${first.cover && cover(first.cover)}
      <strong class="card-title">${first.title}</strong>
      ${first.digest && html`<span class="card-digest">${first.digest}</span>`}
      ${card.button && html`<span class="card-button">${card.button}</span>`}
    </button>
    ${rest.map((a) => html`<button type="button" class="card-row" onClick=${() => openLink(a.url)} disabled=${!a.url}>${a.title}</button>`)}
  </div>`;
}

// The quoted message of a reply: its sender and a one-line preview (or, not loaded here,
// just that it quotes one).
function Quote({ client, room, eventId }) {
  const quoted = room.findEventById(eventId);
  if (!quoted) return html`<span class="quote">引用的消息</span>`;
  const name = quoted.sender?.name || quoted.getSender();
  return html`<span class="quote" data-quoted=${eventId}><span class="quote-name">${name}：</span>${preview(quoted, client, room)}</span>`;
}

// 合并转发's record: its title and first lines; a click shows every message.
function MergedCard({ merged }) {
  const [open, setOpen] = useState(false);
  return html`<span class="merged">
    <button type="button" class="merged-card" onClick=${() => setOpen(true)}>
      <strong class="merged-title">${merged.title}</strong>
      ${merged.messages.slice(0, 3).map((m) => html`<span class="merged-line">${m.name}：${m.text}</span>`)}
      <span class="merged-foot">聊天记录</span>
    </button>
    ${open && html`<div class="dialog-backdrop" onClick=${(e) => e.target === e.currentTarget && setOpen(false)}>
      <div class="dialog merged-dialog" role="dialog" aria-label=${merged.title}>
        <h3>${merged.title}</h3>
        <ol class="merged-list">${merged.messages.map((m) => html`<li>
          <span class="merged-who">${m.name}<span class="merged-time">${timeOf(m.ts)}</span></span>
          <span class="merged-text">${m.text}</span></li>`)}</ol>
        <button type="button" class="link" onClick=${() => setOpen(false)}>关闭</button>
      </div>
    </div>`}
  </span>`;
}

// 👍 2 under the bubble; a click adds or takes back one's own.
function Reactions({ client, room, event, onReact }) {
  const relations = event.getId() && room.relations.getChildEventsForEvent(event.getId(), "m.annotation", "m.reaction");
  const pairs = (relations?.getSortedAnnotationsByKey() || [])
    .map(([key, events]) => [key, [...events].filter((e) => !e.isRedacted()).map((e) => e.getSender())]);
  const shown = reactionSummary(pairs, client.getUserId());
  if (!shown.length) return null;
  return html`<span class="reactions">${shown.map((r) => html`<button type="button" class=${`reaction${r.mine ? " mine" : ""}`}
    data-key=${r.key} aria-pressed=${r.mine} aria-label=${`${r.key} ${r.count}人`} onClick=${() => onReact(event, r.key)}>${r.key} ${r.count}</button>`)}</span>`;
}

export function Message({ client, room, event, group, onReadList, sharing, onMenu, onView, onSave, onReact, selecting, selected, onToggle }) {
  const mine = event.getSender() === client.getUserId();
  const name = event.sender?.name || event.getSender();
  const recalled = recallLine(client, room, event);
  if (recalled) {
    return html`<li class="system-notice recalled" data-event-id=${event.getId()} data-key=${keyOf(event)}><span>${recalled}</span></li>`;
  }
  const content = event.getContent();
  const pending = event.status !== null && event.status !== undefined;
  if (content.msgtype === "m.notice" && content["cn.jwwx.notice"]) {
    return html`<li class="system-notice" data-event-id=${event.getId()} data-key=${keyOf(event)}><span>${content.body}</span></li>`;
  }
  const ttl = burnTtl(content);
  const allowed = sharingFor(sharing, content);
  const replyTo = event.replyEventId;
  let body = html`<span class="text">${replyTo ? stripReplyFallback(content.body) : content.body}</span>`;
  const card = cardOf(content);
  if (card) body = html`<${Card} client=${client} card=${card} />`;
  const merged = mergedOf(content);
  if (merged) body = html`<${MergedCard} merged=${merged} />`;
  if (content.msgtype === "m.image" && content.url) {
    body = html`<button type="button" class="image-button" aria-label=${`查看图片 ${content.body || ""}`} onClick=${() => onView(content)}>
      <${AuthedImage} client=${client} mxc=${content.url} alt=${content.body} /></button>`;
  } else if (content.msgtype === "m.audio" && content.url) {
    body = html`<${VoiceBubble} client=${client} content=${content} eventId=${event.getId()} roomId=${room.roomId}
      canTranscribe=${ttl === null && !pending} />`;
  } else if (content.msgtype === "m.location") {
    body = html`<${LocationCard} content=${content} />`;
  } else if (content.msgtype === "m.video" && content.url) {
    body = html`<${VideoBubble} client=${client} content=${content} canSave=${allowed.save} onSave=${() => onSave(content)} />`;
  } else if (content.msgtype === "m.file" && content.url) {
    body = html`<${FileCard} content=${content} canSave=${allowed.save} onSave=${() => onSave(content)} />`;
  }
  let unread = null;
  const members = group && mine && !pending ? room.getJoinedMemberCount() : 0;
  if (members > 1) unread = Math.max(0, members - 1 - readers(room, event).length);
  const edited = Boolean(event.replacingEvent());
  return html`<li class=${`message${mine ? " mine" : ""}${pending ? " pending" : ""}${ttl !== null ? " burn" : ""}${selecting ? " selecting" : ""}`} data-event-id=${event.getId()} data-key=${keyOf(event)}>
    ${selecting && html`<input type="checkbox" class="pick" aria-label="选择此消息" checked=${selected}
      disabled=${ttl !== null || pending} onChange=${() => onToggle(event)} />`}
    <span class="avatar" aria-hidden="true">${name.slice(0, 1)}</span>
    <div class="bubble-wrap">
      ${!mine && html`<span class="sender">${name}</span>`}
      <div class=${`bubble${allowed.copy ? "" : " no-copy"}`} title=${formatTime(event.getTs())}
        onCopy=${(e) => !allowed.copy && e.preventDefault()}
        onContextMenu=${(e) => { if (!pending) { e.preventDefault(); onMenu({ event, x: e.clientX, y: e.clientY }); } }}>${replyTo && html`<${Quote} client=${client} room=${room} eventId=${replyTo} />`}${body}${edited && html`<span class="edited">（已编辑）</span>`}</div>
      <${Reactions} client=${client} room=${room} event=${event} onReact=${onReact} />
      ${ttl !== null && html`<${BurnTag} room=${room} event=${event} ttl=${ttl} />`}
      ${unread !== null && html`<button type="button" class=${`read-state${unread ? "" : " all-read"}`}
        onClick=${() => onReadList(event.getId())}>${unreadLabel(unread)}</button>`}
    </div>
  </li>`;
}
