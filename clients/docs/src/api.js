// SPDX-License-Identifier: AGPL-3.0-or-later
// The document API (/_jwwx/client/v1/docs) with the officer's Matrix access token. The
// session is the web client's of this tab (its own session.js), so an officer signed in
// there opens documents without signing in again.
export { loadSession, saveSession } from "../../web/src/session.js";

const DOCS = "/_jwwx/client/v1/docs";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.errcode = body && body.errcode;
    this.body = body || {};
  }
}

async function call(method, path, body, token) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

export function api(session, method, path, body) {
  return call(method, DOCS + path, body, session.token);
}

export async function login(user, password) {
  const answer = await call("POST", "/_matrix/client/v3/login", {
    type: "m.login.password",
    identifier: { type: "m.id.user", user },
    password,
    initial_device_display_name: "警务文档",
  });
  return { token: answer.access_token, userId: answer.user_id, deviceId: answer.device_id };
}
