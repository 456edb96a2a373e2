// SPDX-License-Identifier: AGPL-3.0-or-later
// 收藏 (docs/favorites.md): the officer's favourite messages, newest first, searched by text
// or file name; one opened on the right, sent on to a chat (when the sharing policy allows
// forwarding favourites) or removed. And 搜索 in the chat list: the unified search
// (docs/search.md) over chats, messages and files; a hit opens its chat.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { favorites, search } from "./api.js";
import { chatRooms, formatTime, withoutSpareRooms } from "./chats.js";
import { previewOf } from "./format.js";
import { AuthedImage } from "./media.js";
import { wantEveryChat } from "./sliding.js";

function useDebounced(value, ms = 250) {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value]);
  return settled;
}

export function FavoritesList({ token, selected, onOpen, version }) {
  const [query, setQuery] = useState("");
  const q = useDebounced(query.trim());
  const [page, setPage] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    favorites.list(token, q).then((p) => live && setPage(p), (e) => live && setError(e.message));
    return () => { live = false; };
  }, [q, version]);

  async function more() {
    try {
      const next = await favorites.list(token, q, page.next_from);
      setPage({ favorites: [...page.favorites, ...next.favorites], next_from: next.next_from });
    } catch (e) {
      setError(e.message);
    }
  }

  return html`<div class="list-pane favorites-pane">
    <div class="search-box">
      <input type="search" name="favorite-search" aria-label="搜索收藏" placeholder="搜索收藏：文字或文件名"
        value=${query} onInput=${(e) => setQuery(e.target.value)} />
    </div>
    ${error && html`<p class="error">${error}</p>`}
    <ul class="chat-list" aria-label="收藏列表">
      ${page && page.favorites.length === 0 && html`<li class="empty">${q ? "没有找到相关收藏" : "暂无收藏：在聊天中右键消息即可收藏"}</li>`}
      ${(page?.favorites || []).map((f) => html`<li key=${f.id}>
        <button type="button" class=${`fav-row${f.id === selected?.id ? " selected" : ""}`} data-id=${f.id} onClick=${() => onOpen(f)}>
          <span class="fav-text">${previewOf(f.content)}</span>
          <span class="fav-meta">${formatTime(f.created_ts)}</span>
        </button></li>`)}
      ${page?.next_from && html`<li><button type="button" class="tree-row more" onClick=${more}>加载更多…</button></li>`}
    </ul>
  </div>`;
}

export function FavoriteDetail({ client, token, favorite, sharing, onRemoved }) {
  const [target, setTarget] = useState("");
  const [status, setStatus] = useState("");
  const [error, setError] = useState("");
  const content = favorite.content || {};
  const canForward = sharing?.sharing?.allow_forward_favorites !== false;
  const rooms = chatRooms(client).filter((r) => r.getMyMembership() === "join");
  useEffect(() => wantEveryChat(), []); // under sliding sync: every chat, not the window

  async function act(action, done) {
    setError("");
    setStatus("");
    try {
      await action();
      setStatus(done);
    } catch (e) {
      setError(e.message);
    }
  }

  return html`<section class="favorite-detail" aria-label="收藏详情">
    <p class="fav-meta">来自 ${client.getUser(favorite.sender)?.displayName || favorite.sender} · ${formatTime(favorite.origin_server_ts)}
      · 收藏于 ${formatTime(favorite.created_ts)}</p>
    ${content.msgtype === "m.image" && content.url
      ? html`<${AuthedImage} client=${client} mxc=${content.url} alt=${content.body} />`
      : html`<p class="fav-body">${previewOf(content)}</p>`}
    <div class="actions">
      ${canForward
        ? html`<select name="favorite-target" aria-label="发送到" value=${target} onChange=${(e) => setTarget(e.currentTarget.value)}>
            <option value="">选择聊天…</option>
            ${rooms.map((r) => html`<option value=${r.roomId}>${r.name}</option>`)}
          </select>
          <button type="button" class="primary" disabled=${!target}
            onClick=${() => act(() => favorites.send(token, favorite.id, target), "已发送")}>发送</button>`
        : html`<span class="no-save">管理员已禁止转发收藏</span>`}
      <button type="button" class="link" onClick=${() => act(async () => { await favorites.remove(token, favorite.id); onRemoved(); }, "")}>删除收藏</button>
    </div>
    ${status && html`<p class="notice" role="status">${status}</p>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </section>`;
}

const KINDS = "groups,messages,files,images";

// The chat list's search: chats by name or member, then messages and files.
// A message, file or picture hit opens its chat at that message (onOpenMessage).
export function SearchResults({ token, client, query, onOpenRoom, onOpenMessage }) {
  const q = useDebounced(query.trim());
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (!q) return undefined;
    let live = true;
    setError("");
    search(token, q, KINDS).then((a) => withoutSpareRooms(client, token, a))
      .then((a) => live && setAnswer(a), (e) => live && setError(e.message));
    return () => { live = false; };
  }, [q]);
  const roomName = (id) => client.getRoom(id)?.name || "";
  const hits = (kind) => answer?.[kind]?.results || [];
  const media = [...hits("files"), ...hits("images")];
  const messageRow = (m) => html`<li key=${m.event_id}>
    <button type="button" class="hit" data-room-id=${m.room_id} data-event-id=${m.event_id} onClick=${() => onOpenMessage(m.room_id, m.event_id)}>
      <span class="hit-text">${m.file?.name || m.body}</span>
      <span class="hit-meta">${roomName(m.room_id)} · ${formatTime(m.origin_server_ts)}</span>
    </button></li>`;
  return html`<div class="search-pane" aria-label="搜索结果">
    ${error && html`<p class="error">${error}</p>`}
    ${answer && hits("groups").length + hits("messages").length + media.length === 0 && html`<p class="empty">没有找到“${q}”相关结果</p>`}
    ${hits("groups").length > 0 && html`<h4>群聊</h4><ul class="chat-list">
      ${hits("groups").map((g) => html`<li key=${g.room_id}><button type="button" class="hit" data-room-id=${g.room_id} onClick=${() => onOpenRoom(g.room_id)}>
        <span class="hit-text">${g.name}</span>
        ${g.members?.length > 0 && html`<span class="hit-meta">包含：${g.members.map((m) => m.displayname).join("、")}</span>`}
      </button></li>`)}</ul>`}
    ${hits("messages").length > 0 && html`<h4>聊天记录（${answer.messages.count ?? hits("messages").length}）</h4><ul class="chat-list">${hits("messages").map(messageRow)}</ul>`}
    ${media.length > 0 && html`<h4>文件和图片</h4><ul class="chat-list">${media.map(messageRow)}</ul>`}
  </div>`;
}
