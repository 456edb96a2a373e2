// SPDX-License-Identifier: AGPL-3.0-or-later
// Login: userid or mobile + password through the standard Matrix /login; a second
// factor (TOTP, recovery code or device key) when the server answers that it needs
// one; then the first-login password change or the TOTP enrolment when the admin API
// holds the new session for them. The password stays in this closure only for the
// second step and is dropped afterwards.

import { ApiError, call, get, post, session } from "./api.js";
import { clear, errorBox, field, h } from "./dom.js";

const LOGIN = "/_matrix/client/v3/login";
const MFA_TYPE = "cn.jwwx.login.totp";

function identifier(kind, text) {
  return kind === "phone"
    ? { type: "m.id.phone", country: "CN", phone: text }
    : { type: "m.id.user", user: text };
}

function loginMessage(e) {
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

// Renders the login page into `root`; calls onSignedIn({token, userId, deviceId}).
export function showLogin(root, title, onSignedIn, notice) {
  const error = errorBox();
  const kind = h("select", { name: "kind", "aria-label": "登录方式" },
    h("option", { value: "user", text: "账号" }), h("option", { value: "phone", text: "手机号" }));
  const user = h("input", { name: "user", autocomplete: "username", required: true, placeholder: "账号或手机号" });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary wide", text: "登录" });
  const form = h("form", { class: "login-form", novalidate: true },
    h("h1", { text: title }),
    notice ? h("p", { class: "notice", role: "status", text: notice }) : null,
    h("div", { class: "row" }, kind, user),
    field("密码", password),
    error.el, submit);
  clear(root, h("main", { class: "login-page" }, form));
  user.focus();

  let pending = null;  // the first step's body while the second factor is asked for

  async function login(body) {
    submit.disabled = true;
    error.hide();
    try {
      const answer = await call("POST", LOGIN, body);
      pending = null;
      onSignedIn({ token: answer.access_token, userId: answer.user_id, deviceId: answer.device_id });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.errcode === "CN_JWWX_MFA_REQUIRED") {
        pending = body;
        askSecondFactor(e.body["cn.jwwx.login_type"] || MFA_TYPE);
        return;
      }
      error.show(loginMessage(e));
    } finally {
      submit.disabled = false;
    }
  }

  function askSecondFactor(type) {
    const code = h("input", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true, placeholder: "6 位动态码" });
    const again = h("button", { type: "button", class: "link", text: "返回重新输入账号" });
    const second = errorBox();
    const ok = h("button", { type: "submit", class: "primary wide", text: "验证并登录" });
    const step = h("form", { class: "login-form", novalidate: true },
      h("h1", { text: "二次验证" }),
      h("p", { text: "请输入身份验证器中的动态码（也可输入恢复码或设备密钥）。" }),
      field("动态码", code), second.el, ok, again);
    clear(root, h("main", { class: "login-page" }, step));
    code.focus();
    again.addEventListener("click", () => showLogin(root, title, onSignedIn));
    step.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!code.value.trim()) return second.show("请输入动态码");
      ok.disabled = true;
      try {
        const answer = await call("POST", LOGIN, { ...pending, type, code: code.value.trim() });
        pending = null;
        onSignedIn({ token: answer.access_token, userId: answer.user_id, deviceId: answer.device_id });
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        second.show(e.errcode === "M_FORBIDDEN" ? "动态码错误或已使用，请输入新的动态码" : loginMessage(e));
        code.value = "";
        code.focus();
      } finally {
        ok.disabled = false;
      }
    });
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = user.value.trim();
    if (!text || !password.value) return error.show("请输入账号和密码");
    login({
      type: "m.login.password",
      identifier: identifier(kind.value, text),
      password: password.value,
      initial_device_display_name: "管理后台",
    });
  });
}

// First login: the initial password must be changed (user-interactive auth with it).
export function showPasswordChange(root, userId, onDone) {
  const error = errorBox();
  const current = h("input", { type: "password", name: "current", autocomplete: "current-password" });
  const next = h("input", { type: "password", name: "new", autocomplete: "new-password" });
  const again = h("input", { type: "password", name: "again", autocomplete: "new-password" });
  const ok = h("button", { type: "submit", class: "primary wide", text: "修改密码" });
  const form = h("form", { class: "login-form", novalidate: true },
    h("h1", { text: "首次登录请修改密码" }),
    h("p", { text: "您正在使用初始密码（或管理员重置后的密码），修改后即可继续使用。" }),
    field("当前密码", current), field("新密码", next), field("再次输入新密码", again), error.el, ok);
  clear(root, h("main", { class: "login-page" }, form));
  current.focus();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (next.value !== again.value) return error.show("两次输入的新密码不一致");
    ok.disabled = true;
    try {
      await post("/_matrix/client/v3/account/password", {
        new_password: next.value,
        logout_devices: false,
        auth: { type: "m.login.password", identifier: { type: "m.id.user", user: userId }, password: current.value },
      });
      onDone();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const problems = e.body["cn.jwwx.problems"];
      error.show(e.errcode === "M_FORBIDDEN" ? "当前密码错误" : (problems ? `新密码不符合要求：${problems.join("；")}` : e.message));
    } finally {
      ok.disabled = false;
    }
  });
}

// The MFA policy covers this admin and it has no authenticator yet: enrol one.
export async function showMfaEnrolment(root, onDone) {
  const error = errorBox();
  let started;
  try {
    started = await post("/_jwwx/client/v1/accounts/mfa/totp", {});
  } catch (e) {
    clear(root, h("main", { class: "login-page" }, h("p", { class: "form-error", role: "alert", text: e.message })));
    return;
  }
  const code = h("input", { name: "code", inputmode: "numeric", autocomplete: "one-time-code" });
  const ok = h("button", { type: "submit", class: "primary wide", text: "启用二次验证" });
  const form = h("form", { class: "login-form", novalidate: true },
    h("h1", { text: "请先设置二次验证" }),
    h("p", { text: "用身份验证器扫描二维码（或手工输入密钥），再输入它显示的动态码。" }),
    h("img", { class: "qr", alt: "二维码", src: `data:image/png;base64,${started.qr_png_base64}` }),
    h("p", { class: "mono", text: `密钥：${started.secret}` }),
    field("动态码", code), error.el, ok);
  clear(root, h("main", { class: "login-page" }, form));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    ok.disabled = true;
    try {
      const done = await post("/_jwwx/client/v1/accounts/mfa/totp/confirm", { code: code.value.trim() });
      const next = h("button", { type: "button", class: "primary wide", text: "已保存，进入管理后台" });
      next.addEventListener("click", onDone);
      clear(root, h("main", { class: "login-page" }, h("div", { class: "login-form" },
        h("h1", { text: "请保存恢复码" }),
        h("p", { text: "手机丢失时可用恢复码登录，每个只能用一次，只显示这一次。" }),
        h("ul", { class: "codes mono" }, done.recovery_codes.map((c) => h("li", { text: c }))), next)));
    } catch (e) {
      error.show(e.errcode === "M_FORBIDDEN" ? "动态码错误" : e.message);
    } finally {
      ok.disabled = false;
    }
  });
}

export async function signOutRequest() {
  if (session.active()) await call("POST", "/_matrix/client/v3/logout", {}).catch(() => {});
  await session.end();
}

const SESSION = "/_jwwx/admin/v1/admins/session";

// The admin API asks this session for its second factor (admin login hardening,
// docs/admin.md): CN_JWWX_ADMIN_SECOND_FACTOR_REQUIRED after a password-only login,
// CN_JWWX_ADMIN_SESSION_EXPIRED after the server's idle time. A code (or recovery code)
// sent to session/verify passes it; an admin without an authenticator enrols one first,
// and its first code both confirms the enrolment and verifies the session.
export async function showStepUp(root, expired, onDone, onCancel) {
  let status;
  try {
    status = await get(SESSION);
  } catch (e) {
    clear(root, h("main", { class: "login-page" }, h("p", { class: "form-error", role: "alert", text: e.message })));
    return;
  }
  if (status.totp === "unavailable") {
    clear(root, h("main", { class: "login-page" }, h("p", { class: "form-error", role: "alert", text: "服务器未启用二次验证，管理员无法登录管理后台，请联系系统维护人员" })));
    return;
  }
  const error = errorBox();
  const code = h("input", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", placeholder: "6 位动态码" });
  const ok = h("button", { type: "submit", class: "primary wide", text: "验证" });
  const cancel = h("button", { type: "button", class: "link", text: "退出登录" });
  cancel.addEventListener("click", onCancel);
  const parts = [];
  if (status.totp === "enabled") {
    parts.push(h("h1", { text: expired ? "会话已过期，请重新验证" : "管理员二次验证" }),
      h("p", { text: "请输入身份验证器中的动态码（也可输入恢复码）。" }));
  } else {
    const started = await post("/_jwwx/client/v1/accounts/mfa/totp", {});
    parts.push(h("h1", { text: "管理员须设置二次验证" }),
      h("p", { text: "用身份验证器扫描二维码（或手工输入密钥），再输入它显示的动态码。" }),
      h("img", { class: "qr", alt: "二维码", src: `data:image/png;base64,${started.qr_png_base64}` }),
      h("p", { class: "mono", text: `密钥：${started.secret}` }));
  }
  const form = h("form", { class: "login-form", novalidate: true }, parts, field("动态码", code), error.el, ok, cancel);
  clear(root, h("main", { class: "login-page" }, form));
  code.focus();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    ok.disabled = true;
    error.hide();
    try {
      const done = await post(`${SESSION}/verify`, { code: code.value.trim() });
      if (done.recovery_codes) {
        const next = h("button", { type: "button", class: "primary wide", text: "已保存，进入管理后台" });
        next.addEventListener("click", onDone);
        clear(root, h("main", { class: "login-page" }, h("div", { class: "login-form" },
          h("h1", { text: "请保存恢复码" }),
          h("p", { text: "手机丢失时可用恢复码登录，每个只能用一次，只显示这一次。" }),
          h("ul", { class: "codes mono" }, done.recovery_codes.map((c) => h("li", { text: c }))), next)));
      } else {
        onDone();
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      error.show(e.errcode === "M_FORBIDDEN" ? "动态码错误或已使用，请输入新的动态码" : e.message);
      code.value = "";
      code.focus();
    } finally {
      ok.disabled = false;
    }
  });
}
