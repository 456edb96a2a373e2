// SPDX-License-Identifier: AGPL-3.0-or-later
// 警务文档: officers edit one document together. The content is a Yjs document kept by
// the homeserver (modules.docs, docs/documents.md), synced over its WebSocket with
// y-websocket's provider (the standard Yjs sync and awareness protocol) and edited
// with Tiptap (ProseMirror) through its Yjs binding; presence shows the others' carets.
// The officer's own Matrix access token opens it (the web client's session of this tab,
// or a login here): no second account.
import "./style.css";
import { api, ApiError, loadSession, login, saveSession } from "./api.js";

const app = document.getElementById("app");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function show(...nodes) {
  app.replaceChildren(...nodes);
}

function loginView() {
  const user = el("input", { name: "user", autocomplete: "username", placeholder: "警号或账号" });
  const password = el("input", { name: "password", type: "password", autocomplete: "current-password", placeholder: "密码" });
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "login" }, el("h1", {}, "警务文档"), user, password,
    el("button", { type: "submit" }, "登录"), error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try {
      saveSession(await login(user.value.trim(), password.value));
      route();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      error.textContent = e.errcode === "CN_JWWX_MFA_REQUIRED"
        ? "此账号需要动态码：请在警务微信登录后再打开文档"
        : e.errcode === "M_FORBIDDEN" ? "账号或密码错误" : e.message;
    }
  });
  show(form);
}

async function listView(session) {
  const title = el("input", { name: "title", placeholder: "新文档标题", maxlength: "200" });
  const kind = el("select", { name: "kind", "aria-label": "类型" },
    el("option", { value: "rich" }, "文档"), el("option", { value: "sheet" }, "表格"),
    el("option", { value: "slides" }, "演示"));
  const create = el("form", { class: "create" }, title, kind, el("button", { type: "submit" }, "新建"));
  create.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const untitled = { sheet: "无标题表格", slides: "无标题演示" }[kind.value] || "无标题文档";
    const doc = await api(session, "POST", "", { title: title.value.trim() || untitled, kind: kind.value });
    location.hash = docHash(doc);
  });
  const [mine, shared] = await Promise.all([
    api(session, "GET", "?filter=mine"),
    api(session, "GET", "?filter=shared"),
  ]);
  const list = (heading, docs) => el("section", {}, el("h2", {}, heading),
    docs.length
      ? el("ul", { class: "docs" }, ...docs.map((d) => el("li", {},
        el("a", { href: docHash(d) }, d.title))))
      : el("p", { class: "empty" }, "暂无文档"));
  show(el("header", {}, el("h1", {}, "警务文档"), el("span", { class: "me" }, session.userId)),
    create, list("我的文档", mine.documents), list("与我共享", shared.documents));
}

// A sheet's or deck's link says so, so that its view loads while the document is fetched.
const docHash = (d) => `#doc=${encodeURIComponent(d.doc_id)}${d.kind === "sheet" || d.kind === "slides" ? `&kind=${d.kind}` : ""}`;
// Each kind's view is loaded only when one is opened (the text editor, Tiptap, too:
// a sheet or a deck opens without it).
const VIEWS = {
  sheet: () => import("./sheet/view.js").then((m) => m.openSheet),
  slides: () => import("./slides/view.js").then((m) => m.openSlides),
};
const viewOf = (kind) => (Object.hasOwn(VIEWS, kind) ? VIEWS[kind]() : import("./editor.js").then((m) => m.openDocument));

let closeOpen = null;

async function route() {
  if (closeOpen) {
    closeOpen();
    closeOpen = null;
  }
  const session = loadSession();
  if (!session) return loginView();
  const params = new URLSearchParams(location.hash.slice(1));
  const docId = params.get("doc");
  try {
    if (!docId) return await listView(session);
    const hinted = params.get("kind");
    const early = viewOf(hinted).catch(() => null);
    const doc = await api(session, "GET", `/${encodeURIComponent(docId)}`);
    const same = Object.hasOwn(VIEWS, doc.kind) ? hinted === doc.kind : !Object.hasOwn(VIEWS, hinted);
    const open = (same && (await early)) || (await viewOf(doc.kind));
    closeOpen = open(app, session, doc, el);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.status === 401) {
      sessionStorage.clear();
      return loginView();
    }
    show(el("p", { class: "error", role: "alert" }, e.status === 404 ? "文档不存在或无权访问" : e.message),
      el("a", { href: "#" }, "返回文档列表"));
  }
}

window.addEventListener("hashchange", route);
route();
