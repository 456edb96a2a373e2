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

export function PasswordChange({ session, onDone, onCancel }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(ev) {
    ev.preventDefault();
    if (!current || !next) return setError("请输入当前密码和新密码");
    if (next !== again) return setError("两次输入的新密码不一致");
    setBusy(true);
    setError("");
    try {
      await call("POST", "/_matrix/client/v3/account/password", {
        new_password: next,
        logout_devices: false,
        auth: { type: "m.login.password", identifier: { type: "m.id.user", user: session.userId }, password: current },
      }, session.token);
      onDone();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(e.errcode === "M_FORBIDDEN" ? "当前密码错误" : e.message);
    } finally {
      setBusy(false);
    }
  }

  const input = (name, value, set, label, autocomplete) => html`<label>${label}
    <input name=${name} type="password" autocomplete=${autocomplete} value=${value} onInput=${(e) => set(e.target.value)} /></label>`;
  return html`<main class="login-page">
    <form class="login-form" onSubmit=${submit} novalidate>
      <h1>首次登录请修改密码</h1>
      <p>您正在使用初始密码（或管理员重置后的密码），修改后即可继续使用。</p>
      ${input("current", current, setCurrent, "当前密码", "current-password")}
      ${input("new", next, setNext, "新密码", "new-password")}
      ${input("again", again, setAgain, "再次输入新密码", "new-password")}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" class="primary" disabled=${busy}>修改密码</button>
      <button type="button" class="link" onClick=${onCancel}>退出登录</button>
    </form>
  </main>`;
}
