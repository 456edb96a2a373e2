// SPDX-License-Identifier: AGPL-3.0-or-later
// Stands in for matrix-js-sdk's rust-crypto (vite.config.js): this client never calls
// initRustCrypto, because rooms are unencrypted by policy (docs/web_client.md).
export async function initRustCrypto() {
  throw new Error("端到端加密已按策略关闭");
}
