// SPDX-License-Identifier: AGPL-3.0-or-later
// One open document: Tiptap bound to the Yjs document that y-websocket keeps in sync
// with the server. Readers and commenters get a read-only editor (the server refuses
// their updates anyway); every officer's caret and name is shown to the others.
import { Editor } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import Collaboration from "@tiptap/extension-collaboration";
import CollaborationCaret from "@tiptap/extension-collaboration-caret";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { commentHighlights, mountComments } from "./comments.js";
import { api } from "./api.js";
import { TaskBlock, taskForm } from "./task.js";

// The server's close codes (modules/docs/websocket.py): 4401 the sharing changed (connect
// again and be judged on the new sharing), 4403 read-only, 4410 deleted, 4400 a bad
// message; a refused handshake (no role any more) is an error without a close code.
const CLOSED = { 4403: "只读：此文档不接受你的修改", 4410: "文档已被删除", 4400: "连接出错，请刷新页面" };

const COLORS = ["#c0392b", "#2471a3", "#1e8449", "#b9770e", "#7d3c98", "#117a65"];
const ROLE_NAMES = { owner: "所有者", editor: "可编辑", commenter: "可评论", reader: "只读" };

function colorOf(userId) {
  let h = 0;
  for (const ch of userId) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return COLORS[h % COLORS.length];
}

function caret(user) {
  const span = document.createElement("span");
  span.className = "caret";
  span.style.borderColor = user.color; // CSSOM, allowed by the page's CSP
  const label = document.createElement("span");
  label.className = "caret-label";
  label.style.backgroundColor = user.color;
  label.textContent = user.name;
  span.append(label);
  return span;
}

export function openDocument(app, session, doc, el) {
  const ydoc = new Y.Doc();
  const url = doc.websocket_url;
  const base = url.slice(0, url.length - doc.doc_id.length - 1);
  const provider = new WebsocketProvider(base, doc.doc_id, ydoc, {
    params: { access_token: session.token },
    disableBc: true, // every change goes through the server, also between tabs
    shouldReconnect: (event) => !(event.code in CLOSED),
  });
  const writable = doc.role === "owner" || doc.role === "editor";
  const status = el("span", { class: "status", "data-status": "connecting" }, "连接中…");
  const people = el("ul", { class: "people", "aria-label": "正在查看的人" });
  const area = el("div", { class: "editor" });
  const side = el("aside", { class: "side" });
  const tasks = el("div", { class: "tasks" });
  const exportButton = el("button", { type: "button", class: "export" }, "导出 Word");
  exportButton.addEventListener("click", () => downloadDocx(session, doc));
  app.replaceChildren(
    el("header", {}, el("a", { href: "#", class: "back" }, "‹ 文档列表"),
      el("h1", {}, doc.title), el("span", { class: "role" }, ROLE_NAMES[doc.role] || doc.role),
      exportButton, status),
    el("main", { class: "doc" }, area, el("div", { class: "side-wrap" }, people, tasks, side)),
  );
  const me = { name: session.userId.replace(/^@/, "").split(":")[0], color: colorOf(session.userId) };
  const editor = new Editor({
    element: area,
    editable: writable,
    injectCSS: false, // the page's CSP allows no inline style; style.css has it
    extensions: [
      StarterKit.configure({ undoRedo: false }), // Yjs keeps the undo history
      Collaboration.configure({ document: ydoc, field: "default" }),
      CollaborationCaret.configure({
        provider,
        user: me,
        render: caret,
        selectionRender: () => ({ nodeName: "span", class: "caret-selection" }),
      }),
      commentHighlights(ydoc),
      TaskBlock({ ydoc, session, docId: doc.doc_id, api }),
    ],
  });
  if (writable) tasks.append(taskForm(el, editor, session, doc.doc_id, api));
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
    editor.setEditable(false);
  });
  provider.on("sync", (synced) => {
    if (synced) status.dataset.synced = "true";
  });
  const showPeople = () => {
    const names = [...provider.awareness.getStates().values()]
      .map((s) => s.user && s.user.name).filter(Boolean);
    people.replaceChildren(...[...new Set(names)].sort().map((n) => el("li", {}, n)));
  };
  provider.awareness.on("change", showPeople);
  showPeople();
  const comments = mountComments(side, session, doc, ydoc, editor, el);
  return () => {
    comments.close();
    editor.destroy();
    provider.destroy();
    ydoc.destroy();
  };
}

// Word export: the file is fetched with the officer's token, then saved.
async function downloadDocx(session, doc) {
  const response = await fetch(`/_jwwx/client/v1/docs/${encodeURIComponent(doc.doc_id)}/export?format=docx`, {
    headers: { Authorization: `Bearer ${session.token}` },
  });
  if (!response.ok) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `${doc.title}.docx`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}
