// SPDX-License-Identifier: AGPL-3.0-or-later
// 警务微信 PC端: the login page until signed in, then the client (docs/web_client.md).
import { render } from "preact";
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { App } from "./app.js";
import { Login } from "./login.js";
import { clearSession, loadSession, saveSession } from "./session.js";
import "./style.css";

function Root() {
  const [session, setSession] = useState(loadSession);
  if (!session) {
    return html`<${Login} onSignedIn=${(s) => { saveSession(s); setSession(s); }} />`;
  }
  return html`<${App} session=${session} onSignOut=${() => { clearSession(); setSession(null); }} />`;
}

render(html`<${Root} />`, document.getElementById("app"));
