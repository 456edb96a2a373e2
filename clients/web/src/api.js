// SPDX-License-Identifier: AGPL-3.0-or-later
// Plain HTTP calls to this homeserver (login and the /_jwwx/ client APIs); everything
// Matrix after login goes through matrix-js-sdk. Errors keep the server's errcode and
// its (Chinese) message, which the pages show as they are.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `请求失败（${status}）`);
    this.status = status;
    this.errcode = body && body.errcode;
    this.body = body || {};
  }
}

export async function call(method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, { error: "无法连接服务器，请检查网络" });
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { error: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

const DIRECTORY = "/_jwwx/client/v1/directory";

// The organisation directory (docs/directory.md, "Client API").
export const directory = {
  roots: (token) => call("GET", `${DIRECTORY}/roots?limit=100`, undefined, token),
  children: (token, id, from) =>
    call("GET", `${DIRECTORY}/departments/${encodeURIComponent(id)}/children?limit=100${from ? `&from=${encodeURIComponent(from)}` : ""}`, undefined, token),
  member: (token, userid) => call("GET", `${DIRECTORY}/members/${encodeURIComponent(userid)}`, undefined, token),
  search: (token, q) => call("GET", `${DIRECTORY}/search/members?limit=30&q=${encodeURIComponent(q)}`, undefined, token),
};
