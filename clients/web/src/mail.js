// SPDX-License-Identifier: AGPL-3.0-or-later
// 邮件: the officer's mailbox through the mail bridge's API (docs/mail.md; nginx routes
// /_jwwx/mail/ of this origin to the bridge): bind it with the mail login and password,
// the inbox newest first (unread marked), a mail read (marked read on the mail server),
// a reply, 解绑. Nothing of the mail is kept in the browser. Without the bridge behind
// this origin the page says the service is not connected.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { mailApi, mailError } from "./mail_api.js";

const PAGE = 20;

function BindForm({ token, onBound }) {
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  async function submit(ev) {
    ev.preventDefault();
    if (!login.trim() || !password) return setError("请输入邮箱账号和密码");
    setBusy(true);
    setError("");
    try {
      await mailApi.bind(token, login.trim(), password);
      setPassword("");
      onBound();
    } catch (e) {
      setError(mailError(e));
    } finally {
      setBusy(false);
    }
  }
  return html`<form class="mail-bind" onSubmit=${submit} novalidate>
    <p class="hint">绑定单位邮箱后，新邮件会由“邮件助手”提醒，并可在此阅读和回复。</p>
    <label>邮箱账号<input name="mail-login" autocomplete="username" value=${login} onInput=${(e) => setLogin(e.target.value)} /></label>
    <label>邮箱密码<input name="mail-password" type="password" autocomplete="current-password" value=${password}
      onInput=${(e) => setPassword(e.target.value)} /></label>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button type="submit" class="primary" disabled=${busy}>绑定邮箱</button>
  </form>`;
}

// `read`: the UIDs opened in this session (the bridge marks a mail read on the server as
// it is fetched; shown read at once, whatever a listing fetched meanwhile says).
export function MailList({ token, selected, onOpen, version, read = [] }) {
  const [account, setAccount] = useState(null);
  const [inbox, setInbox] = useState(null);
  const [limit, setLimit] = useState(PAGE);
  const [error, setError] = useState("");
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let live = true;
    setError("");
    mailApi.account(token).then(async (a) => {
      if (!live) return;
      setAccount(a);
      if (!a.bound) return setInbox(null);
      const listed = await mailApi.list(token, limit);
      if (live) setInbox(listed);
    }).catch((e) => live && setError(mailError(e)));
    return () => { live = false; };
  }, [token, limit, version, reload]);

  async function unbind() {
    try {
      await mailApi.unbind(token);
      onOpen(null);
      setReload((n) => n + 1);
    } catch (e) {
      setError(mailError(e));
    }
  }

  const seen = (m) => m.seen || read.includes(m.uid);
  const unseen = inbox ? Math.max(0, inbox.unseen - inbox.messages.filter((m) => !m.seen && read.includes(m.uid)).length) : 0;
  return html`<div class="list-pane mail-pane">
    <div class="list-head mail-head">
      <h3 class="list-title">邮件${account?.bound && inbox ? `（${unseen}封未读）` : ""}</h3>
      ${account?.bound && html`<button type="button" class="link" onClick=${() => setReload((n) => n + 1)}>刷新</button>`}
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${account && !account.bound && html`<${BindForm} token=${token} onBound=${() => setReload((n) => n + 1)} />`}
    ${account?.bound && html`<p class="mail-login hint">${account.login}
      <button type="button" class="link" onClick=${unbind}>解绑</button></p>`}
    ${inbox && inbox.messages.length === 0 && html`<p class="empty">收件箱没有邮件</p>`}
    ${inbox && html`<ul class="mail-list" aria-label="收件箱">${inbox.messages.map((m) => html`<li key=${m.uid}>
      <button type="button" class=${`mail-row${m.uid === selected ? " selected" : ""}${seen(m) ? "" : " unseen"}`}
        data-uid=${m.uid} onClick=${() => onOpen(m.uid)}>
        <span class="mail-from">${!seen(m) && html`<span class="badge dot" aria-label="未读"></span>`}${m.from}</span>
        <span class="mail-subject">${m.subject || "（无主题）"}</span>
        <span class="hit-meta">${m.date}</span>
      </button></li>`)}</ul>`}
    ${inbox && inbox.total > inbox.messages.length && limit < 100 && html`<button type="button" class="link more"
      onClick=${() => setLimit(Math.min(100, limit + PAGE))}>加载更多</button>`}
  </div>`;
}

export function MailDetail({ token, uid, onRead }) {
  const [mail, setMail] = useState(null);
  const [error, setError] = useState("");
  const [reply, setReply] = useState("");
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false);
  useEffect(() => {
    let live = true;
    setMail(null);
    setError("");
    setReply("");
    setSent(false);
    mailApi.read(token, uid).then((m) => {
      if (!live) return;
      setMail(m);
      onRead(uid); // now read on the server: the list's mark goes
    }, (e) => live && setError(mailError(e)));
    return () => { live = false; };
  }, [uid]);

  async function send() {
    if (!reply.trim()) return;
    setBusy(true);
    setError("");
    try {
      await mailApi.reply(token, uid, reply.trim());
      setReply("");
      setSent(true);
    } catch (e) {
      setError(mailError(e));
    } finally {
      setBusy(false);
    }
  }

  if (!mail) return html`<section class="mail-detail">${error ? html`<p class="error" role="alert">${error}</p>` : html`<p class="hint">正在打开…</p>`}</section>`;
  const line = (label, value) => value && html`<dt>${label}</dt><dd>${value}</dd>`;
  return html`<section class="mail-detail" aria-label="邮件">
    <header class="conversation-header"><h2>${mail.subject || "（无主题）"}</h2></header>
    <div class="mail-body-wrap">
      <dl class="fields mail-fields">${line("发件人", mail.from)}${line("收件人", mail.to)}${line("抄送", mail.cc)}${line("时间", mail.date)}</dl>
      <pre class="mail-text">${mail.text}</pre>
      ${mail.truncated && html`<p class="hint">邮件过长，仅显示前面部分</p>`}
      ${mail.attachments?.length > 0 && html`<p class="hint">附件（请在邮箱客户端中查看）：${mail.attachments.map((a) => a.filename).join("、")}</p>`}
    </div>
    <footer class="mail-reply">
      <textarea name="mail-reply" aria-label="回复内容" placeholder="回复此邮件…" value=${reply}
        onInput=${(e) => { setReply(e.target.value); setSent(false); }}></textarea>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${sent && html`<span class="notice" role="status">已回复</span>`}
      <button type="button" class="primary" disabled=${busy || !reply.trim()} onClick=${send}>回复</button>
    </footer>
  </section>`;
}
