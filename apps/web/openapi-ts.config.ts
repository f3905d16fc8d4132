import { defineConfig } from '@hey-api/openapi-ts';

/** `npm run gen:client`: the typed client from the document the API serves (written by `openapi-export`). */
export default defineConfig({
  input: 'apps/web/openapi.json',
  output: {
    path: 'apps/web/src/api/generated',
    // The generator's notes to its own maintainers are dropped: the output is never hand-edited here.
    postProcess: [{ command: 'node', args: ['scripts/clean-generated-client.mjs', '{{path}}'] }, 'prettier'],
    clean: true,
  },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk', '@tanstack/react-query'],
});
