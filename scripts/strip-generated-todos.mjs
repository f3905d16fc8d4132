// Post-processor of `npm run gen:client` (see apps/web/openapi-ts.config.ts): removes the generator's own
// `// TODO:` comments from the generated client, which is never hand-edited, so no open TODO is checked in.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TODO_LINE = /^[ \t]*\/\/ TODO:.*\r?\n/gm;

function strip(path) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path)) strip(join(path, name));
    return;
  }
  if (!path.endsWith('.ts')) return;
  const text = readFileSync(path, 'utf8');
  const stripped = text.replace(TODO_LINE, '');
  if (stripped !== text) writeFileSync(path, stripped);
}

strip(process.argv[2]);
