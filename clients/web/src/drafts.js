// SPDX-License-Identifier: AGPL-3.0-or-later
// 草稿: the composer's unsent text of each chat, kept while the tab lives (sessionStorage,
// as the session itself) and shown in the chat list as [草稿].
const KEY = "jwwx.drafts";

function all() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "{}") || {};
  } catch {
    return {};
  }
}

export function draftOf(roomId) {
  return all()[roomId] || "";
}

export function saveDraft(roomId, text) {
  const drafts = all();
  if (text.trim()) drafts[roomId] = text;
  else delete drafts[roomId];
  try {
    sessionStorage.setItem(KEY, JSON.stringify(drafts));
  } catch { /* storage full: the draft lives in the composer only */ }
}
