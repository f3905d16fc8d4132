import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * The bundled apps (scripts/bundle.config.mjs, built by `npm run build`) start their worker threads from files
 * resolved beside the running chunk. A script missing there is not an error at run time: the import reads on the
 * main thread and hashing runs without its thread, only slower. So every such reference is checked here.
 */
describe.each(['api', 'worker', 'cli'])('the %s bundle', (app) => {
  const dir = join(ROOT, 'dist', 'apps', app, 'bundle');
  const files = readdirSync(dir).filter((name) => name.endsWith('.js'));
  const references = files.flatMap((name) =>
    [...readFileSync(join(dir, name), 'utf8').matchAll(/new URL\("(\.\/[^"]+)", import\.meta\.url\)/g)].map(
      (match) => ({ from: name, target: match[1] }),
    ),
  );

  it('should start from main.js and resolve the import and hash worker scripts beside the code that starts them', () => {
    expect(files).toContain('main.js');
    expect(references.map((r) => r.target).sort()).toEqual(['./hash.worker.js', './inspect.worker.js']);
    expect(references.filter((r) => !existsSync(join(dir, r.target)))).toEqual([]);
  });
});
