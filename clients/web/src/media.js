// SPDX-License-Identifier: AGPL-3.0-or-later
// Images come from Synapse's authenticated media API: an <img src> cannot carry the
// access token, so the bytes are fetched with it and shown from a blob: URL.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";

export function AuthedImage({ client, mxc, alt, width = 360, height = 360 }) {
  const [url, setUrl] = useState(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let revoked = false;
    let objectUrl = null;
    const http = client.mxcUrlToHttp(mxc, width, height, "scale", false, true, true);
    if (!http) {
      setFailed(true);
      return undefined;
    }
    fetch(http, { headers: { Authorization: `Bearer ${client.getAccessToken()}` } })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(String(r.status)))))
      .then((blob) => {
        if (revoked) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      })
      .catch(() => !revoked && setFailed(true));
    return () => {
      revoked = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [mxc]);
  if (failed) return html`<span class="media-failed">[图片无法加载]</span>`;
  if (!url) return html`<span class="media-loading">图片加载中…</span>`;
  return html`<img class="message-image" src=${url} alt=${alt || "图片"} />`;
}
