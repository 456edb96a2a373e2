// SPDX-License-Identifier: AGPL-3.0-or-later
// 聊天列表: every chat, pinned first (the room tag m.favourite), then the most recently
// active, each with its unread badge (a muted chat: only a dot), [有人@我] and [草稿];
// right-click for 置顶, 消息免打扰 (an override push rule), 标为已读 and 不显示该聊天 (the
// account data cn.jwwx.hidden_chats). Windowed: only the rows in view (and a few either
// side) are in the DOM, so hundreds of chats cost what a screenful does.
import { html } from "htm/preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { PushRuleKind } from "matrix-js-sdk";
import { chatRooms, formatTime, lastMessage, mentionedUnread, preview, roomKind, unreadCount } from "./chats.js";
import { draftOf } from "./drafts.js";
import { badgeText } from "./format.js";
import { isMutedRule, muteRule, orderChats, rowWindow } from "./rules.js";

export const PIN_TAG = "m.favourite";
export const HIDDEN_TYPE = "cn.jwwx.hidden_chats";
const ROW = 64; // px, .chat-row's height (style.css)

export function hiddenChats(client) {
  return client.getAccountData(HIDDEN_TYPE)?.getContent()?.rooms || {};
}

// The chats as listed, each {id, room, ts, pinned, muted}.
export function listedChats(client, selected) {
  const rules = client.pushRules;
  const entries = chatRooms(client).map((room) => ({
    id: room.roomId,
    room,
    ts: room.getLastActiveTimestamp(),
    pinned: PIN_TAG in (room.tags || {}),
    muted: isMutedRule(rules, room.roomId),
  }));
  return orderChats(entries, hiddenChats(client), selected);
}

// Opened again (from the search, the directory…): on the list again.
export async function unhideChat(client, roomId) {
  const hidden = hiddenChats(client);
  if (!(roomId in hidden)) return;
  const rooms = { ...hidden };
  delete rooms[roomId];
  await client.setAccountData(HIDDEN_TYPE, { rooms });
}

function hasUnseen(client, room, last) {
  return Boolean(last && last.getId() && last.getSender() !== client.getUserId()
    && !room.hasUserReadEvent(client.getUserId(), last.getId()));
}

const BELL_OFF = html`<svg class="muted-mark" viewBox="0 0 16 16" width="14" height="14" role="img" aria-label="消息免打扰">
  <path d="M8 2a4 4 0 0 0-4 4v3l-1.5 2h11L12 9V6a4 4 0 0 0-4-4zm-1.5 10.5a1.5 1.5 0 0 0 3 0z" fill="#b2b2b2" />
  <path d="M2 2l12 12" stroke="#b2b2b2" stroke-width="1.4" /></svg>`;

function ChatRow({ client, entry, selected, onSelect, onMenu, tick }) {
  const { room, muted, pinned } = entry;
  const last = lastMessage(room, client);
  const unread = unreadCount(room);
  const draft = room.roomId === selected ? "" : draftOf(room.roomId);
  const dot = muted && (unread > 0 || hasUnseen(client, room, last));
  return html`<button type="button" class=${`chat-row${room.roomId === selected ? " selected" : ""}${pinned ? " pinned" : ""}`}
    onClick=${() => onSelect(room.roomId)} onContextMenu=${(e) => { e.preventDefault(); onMenu({ entry, x: e.clientX, y: e.clientY }); }}
    data-room-id=${room.roomId} data-tick=${tick} data-muted=${muted} data-pinned=${pinned}>
    <span class="avatar" aria-hidden="true">${(room.name || "?").slice(0, 1)}
      ${!muted && unread > 0 && html`<span class="badge" aria-label=${`${unread}条未读`}>${badgeText(unread)}</span>`}
      ${dot && html`<span class="badge dot" aria-label="有新消息"></span>`}
    </span>
    <span class="chat-main">
      <span class="chat-top"><span class="chat-name">${roomKind(room) === "app" && html`<span class="app-tag">应用</span>`}${room.name}</span>
        <span class="chat-time">${last ? formatTime(last.getTs()) : ""}</span></span>
      <span class="chat-bottom"><span class="chat-preview">${mentionedUnread(client, room) && html`<span class="mention-tag">[有人@我]</span>`}${
        draft && html`<span class="draft-tag">[草稿]</span>`}${draft || preview(last, client, room)}</span>${muted && BELL_OFF}</span>
    </span>
  </button>`;
}

function ChatMenu({ client, menu, onHide, onClose, onError }) {
  const { entry } = menu;
  const roomId = entry.id;
  useEffect(() => {
    const close = () => onClose();
    window.addEventListener("click", close);
    window.addEventListener("keydown", close);
    return () => {
      window.removeEventListener("click", close);
      window.removeEventListener("keydown", close);
    };
  }, [menu]);
  const run = (action) => (e) => {
    e.stopPropagation();
    onClose();
    action().catch((err) => onError(err?.data?.error || err?.message || "操作失败"));
  };
  const last = lastMessage(entry.room, client);
  return html`<ul class="context-menu" role="menu" style=${{ left: `${menu.x}px`, top: `${Math.min(menu.y, window.innerHeight - 180)}px` }}>
    <li role="none"><button type="button" role="menuitem" data-action="pin" onClick=${run(() => (entry.pinned
      ? client.deleteRoomTag(roomId, PIN_TAG) : client.setRoomTag(roomId, PIN_TAG, { order: 0.5 })))}>${entry.pinned ? "取消置顶" : "置顶"}</button></li>
    <li role="none"><button type="button" role="menuitem" data-action="mute" onClick=${run(() => (entry.muted
      ? client.deletePushRule("global", PushRuleKind.Override, roomId)
      : client.addPushRule("global", PushRuleKind.Override, roomId, muteRule(roomId))))}>${entry.muted ? "开启新消息提醒" : "消息免打扰"}</button></li>
    <li role="none"><button type="button" role="menuitem" data-action="read" disabled=${!last?.getId()}
      onClick=${run(() => client.sendReadReceipt(last))}>标为已读</button></li>
    <li role="none"><button type="button" role="menuitem" data-action="hide" onClick=${run(() => onHide(entry))}>不显示该聊天</button></li>
  </ul>`;
}

// `total`: the chats the list holds (under sliding sync more than are loaded: the rest
// are empty rows until `onMore(rows)` has the window reach them).
export function ChatRows({ client, entries, total = entries.length, onMore = null, selected, onSelect, tick, pane }) {
  const list = useRef(null);
  const [view, setView] = useState({ first: 0, height: 800 });
  const [menu, setMenu] = useState(null);
  const [error, setError] = useState("");

  // The rows in view, from the pane's scroll offset (the list starts below the search).
  useLayoutEffect(() => {
    const scroller = pane.current;
    if (!scroller) return undefined;
    const measure = () => {
      const top = scroller.scrollTop - (list.current?.offsetTop || 0);
      setView((v) => {
        const first = Math.floor(Math.max(0, top) / ROW);
        return v.first === first && v.height === scroller.clientHeight ? v : { first, height: scroller.clientHeight };
      });
    };
    measure();
    scroller.addEventListener("scroll", measure, { passive: true });
    window.addEventListener("resize", measure);
    return () => {
      scroller.removeEventListener("scroll", measure);
      window.removeEventListener("resize", measure);
    };
  }, []);

  async function hide(entry) {
    await client.setAccountData(HIDDEN_TYPE, { rooms: { ...hiddenChats(client), [entry.id]: entry.ts } });
    if (entry.id === selected) onSelect(null);
  }

  const count = Math.max(total, entries.length);
  const { start, end } = rowWindow(view.first * ROW, view.height, ROW, count);
  // Rows in view that are not loaded yet: the sliding window grows to them.
  useEffect(() => {
    if (onMore && end > entries.length) onMore(end);
  }, [onMore, end, entries.length]);
  const waiting = Math.max(0, Math.min(end, count) - Math.max(start, entries.length));
  return html`
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${count === 0 && html`<p class="empty">暂无聊天，可从通讯录发起</p>`}
    <ul class="chat-list" aria-label="聊天列表" ref=${list} data-count=${count}
      style=${{ height: `${count * ROW}px` }}>
      ${entries.slice(start, end).map((entry, i) => html`<li key=${entry.id} style=${{ top: `${(start + i) * ROW}px` }}>
        <${ChatRow} client=${client} entry=${entry} selected=${selected} onSelect=${onSelect} onMenu=${setMenu} tick=${tick} />
      </li>`)}
      ${Array.from({ length: waiting }, (_, i) => Math.max(start, entries.length) + i).map((row) => html`<li key=${`row-${row}`}
        class="chat-pending" aria-hidden="true" style=${{ top: `${row * ROW}px` }}><span class="avatar"></span><span class="bar"></span></li>`)}
    </ul>
    ${menu && html`<${ChatMenu} client=${client} menu=${menu} onHide=${hide} onClose=${() => setMenu(null)}
      onError=${setError} />`}`;
}
