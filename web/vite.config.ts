import { resolve } from "node:path";
import { defineConfig } from "vite";

// Two pages, one build: the player's support page at `/` and the staff console at `/console/`.
// Nothing is inlined (the Content-Security-Policy allows scripts and styles from 'self' only),
// and no module-preload polyfill is injected, for the same reason.
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        player: resolve(import.meta.dirname, "index.html"),
        console: resolve(import.meta.dirname, "console/index.html"),
      },
    },
  },
});
