// SPDX-License-Identifier: AGPL-3.0-or-later
// The officer's web client is served by the homeserver at /_jwwx/web/ (web_client module).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  base: "/_jwwx/web/",
  resolve: {
    alias: [
      // Encryption is off by policy: the SDK's Rust crypto (a 5 MB WebAssembly module,
      // loaded only by initRustCrypto, which this client never calls) is replaced by a
      // stub that refuses to start, so it is not in the bundle.
      { find: /^\.\/rust-crypto\/index\.js$/, replacement: fileURLToPath(new URL("src/no_crypto.js", import.meta.url)) },
    ],
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No inline polyfill script: the page's CSP allows scripts from this origin only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2000,
    sourcemap: false,
  },
});
