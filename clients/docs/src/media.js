// SPDX-License-Identifier: AGPL-3.0-or-later
// The media repository from the editors (slides and text documents alike): pictures
// and files fetched with the officer's token and shown from blob: URLs, uploads.
export { downloadFile, mediaBlob, uploadMedia } from "./slides/render.js";

export function fileSize(n) {
  if (!n) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
