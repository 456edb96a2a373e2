// SPDX-License-Identifier: AGPL-3.0-or-later
// The console's only way to the server: the public admin and client APIs. After login
// the access token is handed to the server once (POST /_jwwx/console/session), which
// keeps it in an HttpOnly, SameSite=Strict cookie no script can read; every request then
// carries the session's CSRF token in the X-JWWX-CSRF header, without which the server
// does not accept the cookie. The page keeps only the CSRF token, in memory.

const SESSION_PATH = "/_jwwx/console/session";
const USER_KEY = "jwwx.console.user";  // the user id (not a secret), for a reload
let csrf = null;

export const session = {
  active() { return csrf !== null; },
  userId() { return sessionStorage.getItem(USER_KEY) || ""; },
  // A fresh login's token becomes the cookie; the page forgets it.
  async begin(token, userId) {
    const response = await fetch(SESSION_PATH, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    const body = await answer(response);
    csrf = body.csrf_token;
    sessionStorage.setItem(USER_KEY, userId);
  },
  // After a reload: the cookie's session, if any.
  async resume() {
    try {
      const response = await fetch(SESSION_PATH);
      if (!response.ok) return false;
      csrf = (await response.json()).csrf_token || null;
    } catch {
      csrf = null;
    }
    return csrf !== null;
  },
  // After the logout (or a refused session): the cookie is dropped too.
  async end() {
    csrf = null;
    sessionStorage.removeItem(USER_KEY);
    await fetch(SESSION_PATH, { method: "DELETE" }).catch(() => {});
  },
};

export class ApiError extends Error {
  constructor(status, body) {
    const text = body && typeof body === "object" && body.error ? body.error : `请求失败（HTTP ${status}）`;
    super(text);
    this.status = status;
    this.body = body && typeof body === "object" ? body : {};
    this.errcode = this.body.errcode || "";
  }
}

const SIGNED_OUT = new Set(["M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"]);
// The admin session needs its second factor (again): main.js shows the step-up page.
const STEP_UP = new Set(["CN_JWWX_ADMIN_SECOND_FACTOR_REQUIRED", "CN_JWWX_ADMIN_SESSION_EXPIRED"]);

function headers(extra) {
  const out = { ...extra };
  if (csrf) out["X-JWWX-CSRF"] = csrf;
  return out;
}

async function answer(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { error: text.slice(0, 200) };
  }
  if (!response.ok) {
    const error = new ApiError(response.status, body);
    if (response.status === 401 && SIGNED_OUT.has(error.errcode)) {
      window.dispatchEvent(new CustomEvent("console:signed-out", { detail: error }));
    } else if (response.status === 403 && STEP_UP.has(error.errcode) && !response.url.includes("/admins/me")) {
      window.dispatchEvent(new CustomEvent("console:second-factor", { detail: error }));
    }
    throw error;
  }
  return body;
}

export async function call(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { error: "无法连接服务器，请检查网络" });
  }
  return answer(response);
}

export const get = (path) => call("GET", path);
export const post = (path, body = {}) => call("POST", path, body);
export const put = (path, body = {}) => call("PUT", path, body);
export const del = (path, body) => call("DELETE", path, body);

// A form's action with its button disabled while it runs. A refusal from the server is
// shown in the form's error box (worded by `message` where a page words it its own way);
// anything else is a bug and propagates. Resolves whether the action went through.
export async function submitting(button, error, action, message = (e) => e.message) {
  button.disabled = true;
  error.hide();
  try {
    await action();
    return true;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    error.show(message(e));
    return false;
  } finally {
    button.disabled = false;
  }
}

// Upload a file as the raw body, reporting progress (fetch cannot): resolves with the
// parsed answer, rejects with ApiError.
export function upload(path, file, onProgress, contentType = "application/octet-stream") {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [k, v] of Object.entries(headers({ "Content-Type": contentType }))) {
      xhr.setRequestHeader(k, v);
    }
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      let body;
      try {
        body = JSON.parse(xhr.responseText || "{}");
      } catch {
        body = { error: xhr.responseText.slice(0, 200) };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, { error: "上传失败：无法连接服务器" })));
    xhr.send(file);
  });
}

// A file answer (export): saved through a temporary object URL.
export async function download(path, fallbackName) {
  const response = await fetch(path, { headers: headers({}) });
  if (!response.ok) await answer(response);
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename\*=UTF-8''([^;]+)/.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return { name, size: blob.size };
}

export const enc = encodeURIComponent;

// A media file of this server shown in the page: the authenticated media API, as a blob URL.
export async function mediaUrl(mxc) {
  const match = /^mxc:\/\/([^/]+)\/([^/]+)$/.exec(mxc || "");
  if (!match) return null;
  const response = await fetch(`/_matrix/client/v1/media/download/${enc(match[1])}/${enc(match[2])}`, { headers: headers({}) });
  if (!response.ok) return null;
  return URL.createObjectURL(await response.blob());
}
