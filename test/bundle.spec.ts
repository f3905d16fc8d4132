import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from '@jest/globals';
import { freePort } from './support/ports.js';

const ROOT = resolve(import.meta.dirname, '..');
/** `new URL('./x.worker.js', import.meta.url)` as the CommonJS bundle writes it. */
const WORKER_URL = /new URL\("(\.\/[^"]+)", require\("url"\)\.pathToFileURL\(__filename\)\.href\)/g;

/**
 * The bundled apps (scripts/bundle.config.mjs, built by `npm run build`) start their worker threads from files
 * resolved beside the running chunk. A script missing there is not an error at run time: the import reads on the
 * main thread and hashing runs without its thread, only slower. So every such reference is checked here.
 */
describe.each(['api', 'worker', 'cli'])('the %s bundle', (app) => {
  const dir = join(ROOT, 'dist', 'apps', app, 'bundle');
  const files = readdirSync(dir).filter((name) => name.endsWith('.js'));
  const references = files.flatMap((name) =>
    [...readFileSync(join(dir, name), 'utf8').matchAll(WORKER_URL)].map((match) => ({ from: name, target: match[1] })),
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

/**
 * Each app starts from main.js (scripts/bundle-main.cjs), which compiles the bundle's files with V8's code cache and
 * writes the cache when the process exits. The cache must only ever make a start faster: never run code other than
 * the file's, never stop a start.
 */
describe('the bundle code cache', () => {
  const work = mkdtempSync(join(tmpdir(), 'lm-code-cache-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** `cli migrate [--check]` from the given bundle folder, with the given cache folder; each test has its database. */
  const migrate = (bundle: string, cacheDir: string, ...args: string[]) => {
    const data = join(work, expect.getState().currentTestName!.replace(/\W+/g, '-'));
    const run = spawnSync(process.execPath, [join(bundle, 'main.js'), 'migrate', ...args], {
      env: { PATH: process.env.PATH, DATA_DIR: data, LORA_ROOTS: work, CODE_CACHE_DIR: cacheDir },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return run.stdout;
  };
  /** The cache files of `cli migrate`, by name, with the SHA-1 of their contents. */
  const caches = (cacheDir: string) =>
    new Map(
      readdirSync(join(cacheDir, 'cli', 'migrate')).map((name) => [
        name,
        createHash('sha1')
          .update(readFileSync(join(cacheDir, 'cli', 'migrate', name)))
          .digest('hex'),
      ]),
    );
  const sizeOf = (cacheDir: string, name: string) => statSync(join(cacheDir, 'cli', 'migrate', name)).size;
  const bundle = join(ROOT, 'dist/apps/cli/bundle');

  it('should write the code a command compiled when it exits, and start the next run from it unchanged', () => {
    const cacheDir = join(work, 'first');
    migrate(bundle, cacheDir);
    const written = caches(cacheDir);
    const bootstrapChunk = readdirSync(bundle).find((name) => name.startsWith('bootstrap-'))!;
    expect([...written.keys()].some((name) => name.startsWith(`${bootstrapChunk}.`))).toBe(true);
    expect([...written.keys()].some((name) => name.startsWith('app.js.'))).toBe(true);
    expect(Math.min(...[...written.keys()].map((name) => sizeOf(cacheDir, name)))).toBeGreaterThan(0);

    expect(migrate(bundle, cacheDir, '--check')).toContain('Database is up to date.');
    // A cache V8 refused would have been written again; every one was taken as it was.
    expect(caches(cacheDir)).toEqual(written);
  });

  it('should start without a damaged cache, and write it again', () => {
    const cacheDir = join(work, 'damaged');
    migrate(bundle, cacheDir);
    const [name] = [...caches(cacheDir).keys()].sort((a, b) => sizeOf(cacheDir, b) - sizeOf(cacheDir, a));
    const garbage = Buffer.alloc(sizeOf(cacheDir, name), 0x5a);
    writeFileSync(join(cacheDir, 'cli', 'migrate', name), garbage);
    expect(migrate(bundle, cacheDir, '--check')).toContain('Database is up to date.');
    expect(caches(cacheDir).get(name)).not.toBe(createHash('sha1').update(garbage).digest('hex'));
    expect(sizeOf(cacheDir, name)).toBeGreaterThan(0);
  });

  it('should never run a file from the cache of an earlier build of it, even one of the same length', () => {
    // A copy of the bundle beside the real one (so it finds node_modules and the product's package.json the same way).
    const copy = join(ROOT, 'dist', `code-cache-${process.pid}`, 'cli', 'bundle');
    cpSync(bundle, copy, { recursive: true, filter: (source) => !source.includes('.code-cache') });
    try {
      const cacheDir = join(work, 'rebuilt');
      migrate(copy, 'off');
      // The cache written by this run holds the code that prints the check's answer.
      expect(migrate(copy, cacheDir, '--check')).toContain('Database is up to date.');
      const chunk = readdirSync(copy).find((name) =>
        readFileSync(join(copy, name), 'utf8').includes('is up to date.\\n'),
      )!;
      const source = readFileSync(join(copy, chunk), 'utf8');
      // V8 compares only the length of a cached source with the file's: this "rebuild" keeps it.
      writeFileSync(join(copy, chunk), source.replace('"Database is up to date.\\n"', '"Database is UP TO DATE.\\n"'));
      const later = new Date(Date.now() + 60_000);
      utimesSync(join(copy, chunk), later, later);
      expect(migrate(copy, cacheDir, '--check')).toContain('Database is UP TO DATE.');
      // The earlier build's cache of that file is gone, replaced by the new build's.
      expect([...caches(cacheDir).keys()].filter((name) => name.startsWith(`${chunk}.`))).toHaveLength(1);
    } finally {
      rmSync(dirname(dirname(copy)), { recursive: true, force: true });
    }
  });

  it('should not keep the cache of a run that failed: it compiled too little to start the next runs from', () => {
    const cacheDir = join(work, 'failed');
    const run = spawnSync(process.execPath, [join(bundle, 'main.js'), 'migrate'], {
      env: {
        PATH: process.env.PATH,
        DATA_DIR: join(work, 'failed-data'),
        IMPORT_WORKERS: 'many',
        CODE_CACHE_DIR: cacheDir,
      },
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('IMPORT_WORKERS');
    expect(existsSync(join(cacheDir, 'cli', 'migrate'))).toBe(false);
    // The next run that succeeds writes it.
    migrate(bundle, cacheDir);
    expect(caches(cacheDir).size).toBeGreaterThan(1);
  });

  it('should write the cache of a server while it runs: a signal stops it without an exit event', async () => {
    const cacheDir = join(work, 'server');
    const port = await freePort();
    const data = join(work, 'server-data');
    const api = spawn(process.execPath, [join(ROOT, 'dist/apps/api/bundle/main.js')], {
      env: { PATH: process.env.PATH, DATA_DIR: data, LORA_ROOTS: work, PORT: String(port), CODE_CACHE_DIR: cacheDir },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => api.once('exit', resolve));
    try {
      const written = () =>
        existsSync(join(cacheDir, 'api', 'default')) && readdirSync(join(cacheDir, 'api', 'default')).length > 1;
      const deadline = Date.now() + 30_000;
      while (!written() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect(written()).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    } finally {
      api.kill('SIGTERM');
      await exited;
    }
  }, 40_000);

  it('should start as without a cache when its folder cannot be written, or when it is turned off', () => {
    const file = join(work, 'a-file');
    writeFileSync(file, '');
    expect(migrate(bundle, join(file, 'cache'))).toContain('Database: ');
    expect(migrate(bundle, 'off', '--check')).toContain('Database is up to date.');
    expect(existsSync(join(ROOT, 'off'))).toBe(false);
    expect(existsSync(join(process.cwd(), 'off'))).toBe(false);
  });
});

/**
 * The bundle makes Nest's log-time formatters on first use instead of as Nest's logger modules load (the first
 * `Intl.DateTimeFormat` of a process starts ICU: ~20 ms of every start). A log line must still carry Nest's time.
 */
describe("the bundle's Nest loggers", () => {
  it('should format the log time exactly as Nest does, making the formatter only when a line is logged', async () => {
    const configs = (await import(join(ROOT, 'scripts/bundle.config.mjs'))) as {
      default: { plugins: { name: string; transform?: (code: string, id: string) => { code: string } | null }[] }[];
    };
    const plugin = configs.default[0].plugins.find((p) => p.name === 'lazy-log-time')!;
    for (const file of ['console-logger.service.js', 'logger.service.js']) {
      const id = join(ROOT, 'node_modules/@nestjs/common/services', file);
      const source = readFileSync(id, 'utf8');
      const { code } = plugin.transform!(source, id)!;
      // The module's formatter declaration and the helper it now calls, run on their own.
      const declaration = /const dateTimeFormatter = lazyDateTimeFormat\([^;]*\);/s.exec(code)![0];
      const helper = code.slice(code.lastIndexOf('function lazyDateTimeFormat'));
      const made: unknown[] = [];
      const intl = {
        DateTimeFormat: new Proxy(Intl.DateTimeFormat, { construct: (t, a: never[]) => (made.push(a), new t(...a)) }),
      };
      const formatter = runInNewContext(`${helper}\n${declaration}\ndateTimeFormatter;`, { Intl: intl }) as {
        format(date: number): string;
      };
      expect(made).toHaveLength(0);
      const eager = /const dateTimeFormatter = new Intl\.DateTimeFormat\(([^;]*)\);/s.exec(source)![1];
      const nests = runInNewContext(`new Intl.DateTimeFormat(${eager});`, { Intl }) as Intl.DateTimeFormat;
      const at = Date.UTC(2026, 11, 7, 18, 30, 5);
      expect(formatter.format(at)).toBe(nests.format(at));
      expect(formatter.format(at + 1000)).toBe(nests.format(at + 1000));
      expect(made).toHaveLength(1);
    }
  });
});
