import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The web app: built from web/ into web/dist, which the API serves at `/` under a strict CSP
// (no inline scripts or styles, so one CSS file and no runtime style injection).
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    // A data: URI for a small asset would be refused by the CSP's default-src.
    assetsInlineLimit: 0,
  },
  server: {
    // `npx vite --config web/vite.config.ts` for development against a running API.
    proxy: { '/api': 'http://127.0.0.1:3000', '/auth': 'http://127.0.0.1:3000' },
  },
});
