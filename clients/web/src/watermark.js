// SPDX-License-Identifier: AGPL-3.0-or-later
// The screen watermark (docs/watermark.md): the admins' policy from
// /_jwwx/client/v1/client_config, drawn over the chat, contacts and profile views it names,
// with the text the server filled in for this officer (name, userid, time). The text is
// tiled as an SVG image (a data: URL, which the page's CSP allows for images); the layer
// lets clicks and selection through.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { call } from "./api.js";
import { tileUrl } from "./format.js";

const CONFIG = "/_jwwx/client/v1/client_config";
const REFRESH_MS = 5 * 60 * 1000; // the text carries the time; the policy may change

export function useClientConfig(token) {
  const [config, setConfig] = useState(null);
  useEffect(() => {
    let live = true;
    const load = () => call("GET", CONFIG, undefined, token).then((c) => live && setConfig(c), () => {});
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [token]);
  return config;
}

// Over the chat pane for chats, over the list and the pane for contacts and profiles.
export function Watermark({ mark, view }) {
  if (!mark) return null;
  return html`<div class=${`watermark ${view === "chat" ? "over-chat" : "over-contacts"}`} aria-hidden="true" data-text=${mark.text}
    style=${{ backgroundImage: tileUrl(mark.text), opacity: mark.opacity }}></div>`;
}
