import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const { version } = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as {
  version: string;
};
const api = process.env.LM_API_URL ?? 'http://127.0.0.1:3000';

/** Built into `dist/web`, which the API serves at `/`; `npm run dev:web` proxies the server's paths to a running API. */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  define: { __APP_VERSION__: JSON.stringify(version) },
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: resolve(import.meta.dirname, '../../dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: true,
    rolldownOptions: {
      // Libraries' "use client" markers mean nothing in a plain SPA bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': api,
      '/docs': api,
      '/docs-json': api,
      '/health': api,
      '/metrics': api,
      '/socket.io': { target: api, ws: true },
    },
  },
});
