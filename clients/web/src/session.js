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
  sessionStorage.removeItem(PASSWORD_OK);
}

// Whether this session's password is known to be fine (not an initial one to change):
// remembered for the tab's life under its own key, so a reload opens the chats without
// asking the accounts status first. A session of another token is asked again.
const PASSWORD_OK = "jwwx.web.password_ok";

export function passwordKnownOk(token) {
  try {
    return sessionStorage.getItem(PASSWORD_OK) === token;
  } catch {
    return false;
  }
}

export function rememberPasswordOk(token) {
  try {
    sessionStorage.setItem(PASSWORD_OK, token);
  } catch {
    // storage full or refused: asked again next time
  }
}
