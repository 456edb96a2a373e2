// SPDX-License-Identifier: AGPL-3.0-or-later
// The signed-in session lives in sessionStorage: it ends with the tab, and another
// officer at the same PC opening the client signs in again.
const KEY = "jwwx.web.session";

export function loadSession() {
  try {
    const found = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return found && found.token && found.userId ? found : null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}
