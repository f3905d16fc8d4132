import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/**
 * Everything the CLI needs is in its bundle but the native database driver: every CommonJS file Node compiles from
 * node_modules costs a resolve, a read and an export scan at start-up (typeorm alone was 295 files, a sixth of
 * `import`'s start). If an update of `@nestjs/typeorm` renamed the helper the bundle replaces (typeorm-compat.js),
 * typeorm would load a second time from node_modules, and this fails.
 */
describe('the CLI bundle at start-up', () => {
  it('should load nothing from node_modules but the SQLite driver', () => {
    const hook = `data:text/javascript,${encodeURIComponent(`
      import Module from 'node:module';
      const compile = Module.prototype._compile;
      const packages = new Set();
      Module.prototype._compile = function (content, filename) {
        const match = /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(filename);
        if (match) packages.add(match[1]);
        return compile.call(this, content, filename);
      };
      process.on('exit', () => process.stderr.write('packages:' + JSON.stringify([...packages].sort()) + '\\n'));
    `)}`;
    const data = mkdtempSync(join(tmpdir(), 'lm-bundle-'));
    try {
      const run = spawnSync(
        process.execPath,
        ['--import', hook, join(ROOT, 'dist/apps/cli/bundle/main.js'), 'migrate'],
        {
          env: { PATH: process.env.PATH, DATA_DIR: data, LORA_ROOTS: data },
          encoding: 'utf8',
        },
      );
      expect(run.status).toBe(0);
      const line = run.stderr.split('\n').find((l) => l.startsWith('packages:'));
      expect(JSON.parse(line!.slice('packages:'.length))).toEqual(['better-sqlite3', 'bindings', 'file-uri-to-path']);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
