// Post-processor of `npm run gen:client` (see apps/web/openapi-ts.config.ts): removes the notes that
// @hey-api/openapi-ts leaves for its own maintainers in the generated client, which is never hand-edited here.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const GENERATOR_NOTE = /^[ \t]*\/\/ TODO:.*\r?\n/gm;

function strip(path) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path)) strip(join(path, name));
    return;
  }
  if (!path.endsWith('.ts')) return;
  const text = readFileSync(path, 'utf8');
  const stripped = text.replace(GENERATOR_NOTE, '');
  if (stripped !== text) writeFileSync(path, stripped);
}

strip(process.argv[2]);
