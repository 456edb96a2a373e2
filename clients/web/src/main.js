// SPDX-License-Identifier: AGPL-3.0-or-later
// 警务微信 PC端: the login page until signed in, the password change while the account
// has only its initial password, then the client (docs/web_client.md).
import { render } from "preact";
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { call } from "./api.js";
import { App } from "./app.js";
import { Login } from "./login.js";
import { mustChangePassword, PasswordChange } from "./password.js";
import { syncMode } from "./sliding.js";
import { clearSession, loadSession, passwordKnownOk, rememberPasswordOk, saveSession } from "./session.js";
import "./style.css";

function Root() {
  const [session, setSession] = useState(loadSession);
  // null: not known yet; true: the initial password must be changed first. Known fine
  // for this session (a reload): the chats start at once, one round trip sooner.
  const [mustChange, setMustChange] = useState(() => (session && passwordKnownOk(session.token) ? false : null));

  useEffect(() => {
    // Whether the server offers sliding sync: asked beside the accounts status.
    if (session) syncMode(session.token);
    if (!session || passwordKnownOk(session.token)) return;
    setMustChange(null);
    mustChangePassword(session.token).then((must) => {
      if (!must) rememberPasswordOk(session.token);
      setMustChange(must);
    }, () => setMustChange(false));
  }, [session && session.token]);

  function signOut() {
    if (session) call("POST", "/_matrix/client/v3/logout", {}, session.token).catch(() => {});
    clearSession();
    setSession(null);
  }

  if (!session) {
    return html`<${Login} onSignedIn=${(s) => { saveSession(s); setSession(s); }} />`;
  }
  if (mustChange === null) return html`<p class="loading">正在登录…</p>`;
  if (mustChange) {
    return html`<${PasswordChange} session=${session} onDone=${() => { rememberPasswordOk(session.token); setMustChange(false); }} onCancel=${signOut} />`;
  }
  return html`<${App} session=${session} onSignOut=${() => { clearSession(); setSession(null); }} />`;
}

const root = document.getElementById("app");
root.textContent = ""; // the page's "正在加载" line: render() adds, it does not replace
render(html`<${Root} />`, root);
