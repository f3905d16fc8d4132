import { defineConfig } from '@hey-api/openapi-ts';

/** `npm run gen:client`: the typed client from the document the API serves (written by `openapi-export`). */
export default defineConfig({
  input: 'apps/web/openapi.json',
  output: {
    path: 'apps/web/src/api/generated',
    // The generator's own TODO comments are dropped: the output is never hand-edited, so they could never be done.
    postProcess: [{ command: 'node', args: ['scripts/strip-generated-todos.mjs', '{{path}}'] }, 'prettier'],
    clean: true,
  },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk', '@tanstack/react-query'],
});
