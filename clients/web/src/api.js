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
  // 标签: the admins' tags with something this officer may see, and one tag's visible
  // departments and a page of its visible members.
  tags: (token) => call("GET", `${DIRECTORY}/tags`, undefined, token),
  tag: (token, id, from) =>
    call("GET", `${DIRECTORY}/tags/${encodeURIComponent(id)}?limit=100${from ? `&from=${encodeURIComponent(from)}` : ""}`, undefined, token),
  // 收藏联系人: the officer's own list of colleagues.
  favorites: (token) => call("GET", `${DIRECTORY}/favorites`, undefined, token),
  addFavorite: (token, userid) => call("PUT", `${DIRECTORY}/favorites/${encodeURIComponent(userid)}`, {}, token),
  removeFavorite: (token, userid) => call("DELETE", `${DIRECTORY}/favorites/${encodeURIComponent(userid)}`, undefined, token),
};

const GROUPS = "/_jwwx/client/v1/groups";
const room = (id) => `${GROUPS}/${encodeURIComponent(id)}`;

// Groups (docs/groups.md, "Client API"): the info, owner/admin actions, read lists, QR links.
export const groups = {
  create: (token, body) => call("POST", GROUPS, body, token),
  transfer: (token, id, userId) => call("POST", `${room(id)}/transfer`, { user_id: userId }, token),
  dissolve: (token, id) => call("POST", `${room(id)}/dissolve`, {}, token),
  info: (token, id) => call("GET", room(id), undefined, token),
  settings: (token) => call("GET", `${GROUPS}/settings`, undefined, token),
  muteAll: (token, id, on) => call("PUT", `${room(id)}/mute_all`, { mute_all: on }, token),
  mute: (token, id, userId, muted) => call("PUT", `${room(id)}/muted`, { user_ids: [userId], muted }, token),
  admin: (token, id, userId, admin) => call("PUT", `${room(id)}/admins/${encodeURIComponent(userId)}`, { admin }, token),
  announce: (token, id, text) => call("PUT", `${room(id)}/announcement`, { text }, token),
  receipts: (token, id, eventId) => call("GET", `${room(id)}/receipts/${encodeURIComponent(eventId)}`, undefined, token),
  joinLink: (token, id) => call("POST", `${room(id)}/join_links`, {}, token),
};

const FAVORITES = "/_jwwx/client/v1/favorites";

// 收藏 (docs/favorites.md) and the unified search (docs/search.md).
export const favorites = {
  add: (token, roomId, eventId) => call("POST", FAVORITES, { room_id: roomId, event_id: eventId }, token),
  list: (token, q, from) => call("GET", `${FAVORITES}?limit=30${q ? `&q=${encodeURIComponent(q)}` : ""}${from ? `&from=${encodeURIComponent(from)}` : ""}`, undefined, token),
  remove: (token, id) => call("DELETE", `${FAVORITES}/${encodeURIComponent(id)}`, undefined, token),
  send: (token, id, roomId) => call("POST", `${FAVORITES}/${encodeURIComponent(id)}/send`, { room_id: roomId }, token),
};

export function search(token, q, kinds) {
  return call("GET", `/_jwwx/client/v1/search?limit=20&kinds=${kinds}&q=${encodeURIComponent(q)}`, undefined, token);
}

const WORKBENCH = "/_jwwx/client/v1/workbench";

// 工作台 (docs/workbench.md): the entries in the officer's range, and the jump.
export const workbench = {
  list: (token, q) => call("GET", `${WORKBENCH}${q ? `?q=${encodeURIComponent(q)}` : ""}`, undefined, token),
  jump: (token, id) => call("POST", `${WORKBENCH}/entries/${encodeURIComponent(id)}/jump`, {}, token),
  // A public account's entry: follow it when the officer is not subscribed yet.
  follow: (token, accountId) => call("POST", `/_jwwx/client/v1/pubaccounts/${encodeURIComponent(accountId)}/follow`, {}, token),
};
