// SPDX-License-Identifier: AGPL-3.0-or-later
// First login (or after an admin reset): the initial password must be changed before
// anything else works (CN_JWWX_PASSWORD_CHANGE_REQUIRED, docs/accounts.md). The change is
// the standard /account/password with the current password as user-interactive auth;
// the same session works afterwards.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { ApiError, call } from "./api.js";

const STATUS = "/_jwwx/client/v1/accounts/status";

// True when the session may be used only to change the password.
export async function mustChangePassword(token) {
  try {
    return Boolean((await call("GET", STATUS, undefined, token)).must_change_password);
  } catch (e) {
    if (e instanceof ApiError && e.errcode === "CN_JWWX_PASSWORD_CHANGE_REQUIRED") return true;
    if (e instanceof ApiError && e.status === 404) return false; // a server without the accounts module
    throw e;
  }
}

// The standard change with the current password as user-interactive auth; the password
// policy's refusal (M_WEAK_PASSWORD) comes back in the server's words.
export async function changePassword(session, current, next, logoutOthers = false) {
  try {
    await call("POST", "/_matrix/client/v3/account/password", {
      new_password: next,
      logout_devices: logoutOthers,
      auth: { type: "m.login.password", identifier: { type: "m.id.user", user: session.userId }, password: current },
    }, session.token);
  } catch (e) {
    if (e instanceof ApiError && e.errcode === "M_FORBIDDEN") throw new ApiError(e.status, { ...e.body, error: "当前密码错误" });
    throw e;
  }
}

// 修改密码 (current, new, again): the first-login page and 设置 → 账号与安全. With
// `offerLogout`, 同时退出其他设备 signs the officer's other sessions out.
export function PasswordForm({ session, onDone, offerLogout = false, children, footer = null }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [logoutOthers, setLogoutOthers] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(ev) {
    ev.preventDefault();
    if (!current || !next) return setError("请输入当前密码和新密码");
    if (next !== again) return setError("两次输入的新密码不一致");
    setBusy(true);
    setError("");
    try {
      await changePassword(session, current, next, logoutOthers);
      setCurrent("");
      setNext("");
      setAgain("");
      onDone();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(e.message);
    } finally {
      setBusy(false);
    }
  }

  const input = (name, value, set, label, autocomplete) => html`<label>${label}
    <input name=${name} type="password" autocomplete=${autocomplete} value=${value} onInput=${(e) => set(e.target.value)} /></label>`;
  return html`<form class="login-form password-form" onSubmit=${submit} novalidate>
    ${children}
    ${input("current", current, setCurrent, "当前密码", "current-password")}
    ${input("new", next, setNext, "新密码", "new-password")}
    ${input("again", again, setAgain, "再次输入新密码", "new-password")}
    ${offerLogout && html`<label class="check"><input type="checkbox" name="logout-others" checked=${logoutOthers}
      onChange=${(e) => setLogoutOthers(e.target.checked)} />同时退出其他设备</label>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button type="submit" class="primary" disabled=${busy}>修改密码</button>
    ${footer}
  </form>`;
}

export function PasswordChange({ session, onDone, onCancel }) {
  return html`<main class="login-page">
    <${PasswordForm} session=${session} onDone=${onDone}
      footer=${html`<button type="button" class="link" onClick=${onCancel}>退出登录</button>`}>
      <h1>首次登录请修改密码</h1>
      <p>您正在使用初始密码（或管理员重置后的密码），修改后即可继续使用。</p>
    </${PasswordForm}>
  </main>`;
}
