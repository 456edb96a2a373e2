// SPDX-License-Identifier: AGPL-3.0-or-later
// The document editor is served by the homeserver at /_jwwx/docs/app/ (modules.docs).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/_jwwx/docs/app/",
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
