// SPDX-License-Identifier: AGPL-3.0-or-later
// One open document's connection, the same for every kind of document: a Yjs document
// kept in sync with the server by y-websocket's provider (the standard Yjs sync and
// awareness protocol), the connection's state in the page's header, and who else has
// the document open. The officer's own access token opens the socket.
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";

// The server's close codes (modules/docs/websocket.py): 4401 the sharing changed (connect
// again and be judged on the new sharing), 4403 read-only, 4410 deleted, 4400 a bad
// message; a refused handshake (no role any more) is an error without a close code.
const CLOSED = { 4403: "只读：此文档不接受你的修改", 4410: "文档已被删除", 4400: "连接出错，请刷新页面" };
const COLORS = ["#c0392b", "#2471a3", "#1e8449", "#b9770e", "#7d3c98", "#117a65"];
export const ROLE_NAMES = { owner: "所有者", editor: "可编辑", commenter: "可评论", reader: "只读" };

export function colorOf(userId) {
  let h = 0;
  for (const ch of userId) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return COLORS[h % COLORS.length];
}

/**
 * Opens `doc` (the document API's answer) for the signed-in officer. Hooks:
 * `onSynced()` once the server's state is in (before the header says so), `onClosed()`
 * when the server closed the connection for good, `onPeople()` when presence changed.
 * Answers {ydoc, provider, me, writable, status, people, header(...extra), close()}.
 */
export function connect(session, doc, el, hooks = {}) {
  const ydoc = new Y.Doc();
  const url = doc.websocket_url;
  const base = url.slice(0, url.length - doc.doc_id.length - 1);
  const provider = new WebsocketProvider(base, doc.doc_id, ydoc, {
    params: { access_token: session.token },
    disableBc: true, // every change goes through the server, also between tabs
    shouldReconnect: (event) => !(event.code in CLOSED),
  });
  const status = el("span", { class: "status", "data-status": "connecting" }, "连接中…");
  const people = el("ul", { class: "people", "aria-label": "正在查看的人" });
  const me = { name: session.userId.replace(/^@/, "").split(":")[0], color: colorOf(session.userId) };
  provider.awareness.setLocalStateField("user", me);
  const link = {
    ydoc, provider, me, status, people,
    writable: doc.role === "owner" || doc.role === "editor",
    header: (...extra) => el("header", {}, el("a", { href: "#", class: "back" }, "‹ 文档列表"),
      el("h1", {}, doc.title), el("span", { class: "role" }, ROLE_NAMES[doc.role] || doc.role),
      ...extra, status),
    close: () => {
      provider.destroy();
      ydoc.destroy();
    },
  };
  let connections = 0;
  provider.on("status", ({ status: state }) => {
    status.dataset.status = state;
    status.textContent = state === "connected" ? "已连接" : "连接中…";
    if (state === "connected") status.dataset.connections = String(++connections);
    else delete status.dataset.synced;
  });
  provider.on("closed", ({ code }) => {
    status.dataset.status = "closed";
    status.textContent = CLOSED[code] || "连接已关闭";
    link.writable = false;
    if (hooks.onClosed) hooks.onClosed(code);
  });
  provider.on("sync", (synced) => {
    if (!synced) return;
    if (hooks.onSynced) hooks.onSynced();
    status.dataset.synced = "true";
  });
  const showPeople = () => {
    const names = [...provider.awareness.getStates().values()]
      .map((s) => s.user && s.user.name).filter(Boolean);
    people.replaceChildren(...[...new Set(names)].sort().map((n) => el("li", {}, n)));
  };
  provider.awareness.on("change", () => {
    showPeople();
    if (hooks.onPeople) hooks.onPeople();
  });
  showPeople();
  return link;
}
