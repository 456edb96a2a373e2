// SPDX-License-Identifier: AGPL-3.0-or-later
// Login: userid or mobile + password through the standard Matrix /login; the TOTP step
// when the server answers CN_JWWX_MFA_REQUIRED (docs/accounts.md). The first step's body
// is kept only until the second step is done.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { ApiError, call } from "./api.js";
import { identifier } from "./format.js";

const LOGIN = "/_matrix/client/v3/login";
const MFA_TYPE = "cn.jwwx.login.totp";

export function loginMessage(e) {
  switch (e.errcode) {
    case "M_FORBIDDEN": return "账号或密码错误";
    case "CN_JWWX_LOGIN_LOCKED": {
      const minutes = e.body.retry_after_ms ? Math.ceil(e.body.retry_after_ms / 60000) : null;
      return minutes ? `登录失败次数过多，账号已锁定，请 ${minutes} 分钟后再试或联系管理员` : "账号已锁定，请联系管理员解锁";
    }
    case "M_USER_LOCKED": return "账号已停用，请联系管理员";
    case "M_USER_DEACTIVATED": return "账号已注销";
    case "M_LIMIT_EXCEEDED": return "尝试过于频繁，请稍后再试";
    default: return e.message;
  }
}

export function Login({ onSignedIn }) {
  const [kind, setKind] = useState("user");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [pending, setPending] = useState(null); // the first step while TOTP is asked
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function login(body) {
    setBusy(true);
    setError("");
    try {
      const answer = await call("POST", LOGIN, body);
      setPending(null);
      onSignedIn({ token: answer.access_token, userId: answer.user_id, deviceId: answer.device_id });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.errcode === "CN_JWWX_MFA_REQUIRED" && !pending) {
        setPending({ ...body, type: e.body["cn.jwwx.login_type"] || MFA_TYPE });
        setCode("");
      } else if (pending && e.errcode === "M_FORBIDDEN") {
        setError("动态码错误或已使用，请输入新的动态码");
        setCode("");
      } else {
        setError(loginMessage(e));
      }
    } finally {
      setBusy(false);
    }
  }

  function submitPassword(ev) {
    ev.preventDefault();
    const text = user.trim();
    if (!text || !password) return setError("请输入账号和密码");
    login({
      type: "m.login.password",
      identifier: identifier(kind, text),
      password,
      initial_device_display_name: "警务微信 PC端",
    });
  }

  function submitCode(ev) {
    ev.preventDefault();
    if (!code.trim()) return setError("请输入动态码");
    login({ ...pending, code: code.trim() });
  }

  if (pending) {
    return html`<main class="login-page">
      <form class="login-form" onSubmit=${submitCode} novalidate>
        <h1>二次验证</h1>
        <p>请输入身份验证器中的动态码（也可输入恢复码或设备密钥）。</p>
        <label>动态码<input name="code" inputmode="numeric" autocomplete="one-time-code"
          placeholder="6 位动态码" value=${code} onInput=${(e) => setCode(e.target.value)} autofocus /></label>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button type="submit" class="primary" disabled=${busy}>验证并登录</button>
        <button type="button" class="link" onClick=${() => { setPending(null); setError(""); }}>返回重新输入账号</button>
      </form>
    </main>`;
  }
  return html`<main class="login-page">
    <form class="login-form" onSubmit=${submitPassword} novalidate>
      <h1>警务微信</h1>
      <div class="row">
        <select name="kind" aria-label="登录方式" value=${kind} onChange=${(e) => setKind(e.target.value)}>
          <option value="user">账号</option>
          <option value="phone">手机号</option>
        </select>
        <input name="user" autocomplete="username" placeholder="账号或手机号" aria-label="账号或手机号"
          value=${user} onInput=${(e) => setUser(e.target.value)} autofocus />
      </div>
      <label>密码<input name="password" type="password" autocomplete="current-password"
        value=${password} onInput=${(e) => setPassword(e.target.value)} /></label>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" class="primary" disabled=${busy}>登录</button>
    </form>
  </main>`;
}
