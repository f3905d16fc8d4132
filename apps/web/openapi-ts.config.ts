import { defineConfig } from '@hey-api/openapi-ts';

/** `npm run gen:client`: the typed client from the document the API serves (written by `openapi-export`). */
export default defineConfig({
  input: 'apps/web/openapi.json',
  output: { path: 'apps/web/src/api/generated', postProcess: ['prettier'], clean: true },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk', '@tanstack/react-query'],
});
