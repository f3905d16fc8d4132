// Bundles each app's compiled entry (tsc output under dist/apps/<app>/src) into dist/apps/<app>/bundle.
//
// Why: Nest 12, rxjs, zod and the app's own code load as ~1,800 small modules; on Node 20 resolving and reading
// them is a third of every start (CLI `import` start-up ~0.9 s → ~0.5 s bundled, see docs/operations.md). The bundle sits at
// the same depth as src/, so paths found from `import.meta.dirname` (the web build, package.json) stay the same.
//
// Kept external, loaded from node_modules as usual:
// - native addons (better-sqlite3, sharp) and packages that find their own files beside them at run time
//   (pino's transport threads, swagger-ui-dist's assets, socket.io's client). typeorm is bundled; it loads its
//   database driver by name at run time (`require('better-sqlite3')`, `require('pg')`), from node_modules as usual;
// - packages only a mode or a path uses that the bundle would otherwise load eagerly (the AWS SDK, bullmq,
//   ioredis, pg), and the formatters nest-commander's completion helper can load (prettier, and TypeScript for
//   cosmiconfig's `.ts` config files), which nothing here uses.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const EXTERNAL = [
  /^@aws-sdk\//,
  /^@smithy\//,
  /^@nestjs\/microservices/,
  'better-sqlite3',
  'bullmq',
  'ioredis',
  'pg',
  /^pino/,
  'prettier',
  'sharp',
  'socket.io',
  'swagger-ui-dist',
  'typescript',
];

/**
 * The import and hash worker threads start from files resolved beside the running code (`new URL(…, import.meta.url)`):
 * entries of their own, written beside the chunks that resolve them (so chunks are not put in a folder of their own).
 */
const WORKER_THREADS = {
  'hash.worker': 'dist/libs/adapters/src/hashing/hash.worker.js',
  'inspect.worker': 'dist/libs/adapters/src/import-runs/inspect.worker.js',
};

/**
 * The CLI's stand-ins for what nest-commander loads at start-up for features the CLI does not use: inquirer (with
 * ora, lodash and iconv-lite, about 1 MB of code) for interactive questions, and cosmiconfig (with js-yaml) for CLI
 * plugins. Each stand-in fails with a message if it is ever called.
 */
const CLI_ALIASES = {
  inquirer: resolve('scripts/bundle-shims/inquirer.cjs'),
  cosmiconfig: resolve('scripts/bundle-shims/cosmiconfig.cjs'),
};

/**
 * typeorm is bundled (its 295 CommonJS files were a sixth of the CLI's start-up: resolving, reading and Node's
 * export scan of each). `@nestjs/typeorm` looks up two classes typeorm 1.x no longer has (`Connection`,
 * `AbstractRepository`) with a `require('typeorm')` of its own at load time, which would load the whole package from
 * node_modules a second time only to find them undefined: its helper is replaced by the answer it gives on typeorm 1.x.
 */
const TYPEORM_COMPAT = /@nestjs\/typeorm\/dist\/common\/typeorm-compat\.js$/;
const typeormCompat = {
  name: 'typeorm-1-compat',
  load(id) {
    if (!TYPEORM_COMPAT.test(id)) return null;
    return 'export const Connection = undefined;\nexport const AbstractRepository = undefined;\n';
  },
};

/**
 * The bundle is CommonJS, so that its files can start from V8's code cache (scripts/bundle-main.cjs, written as the
 * bundle's main.js: it compiles the bundle's files with their caches, then loads the app, app.js). A package.json
 * beside the files says they are CommonJS (the project's own says ES modules).
 */
const commonJsStart = {
  name: 'commonjs-start',
  generateBundle() {
    this.emitFile({ type: 'asset', fileName: 'main.js', source: readFileSync('scripts/bundle-main.cjs', 'utf8') });
    this.emitFile({ type: 'asset', fileName: 'package.json', source: '{ "type": "commonjs" }\n' });
  },
};

/**
 * Nest's two logger modules each make an `Intl.DateTimeFormat` as they load, for the time in a log line; the first
 * one a process makes starts ICU, ~20 ms of every start, also for a CLI command that never logs. In the bundle they
 * make it when the first line is logged. If an update of Nest changes these lines, the build fails here.
 */
const NEST_LOGGERS = /\/@nestjs\/common\/services\/(console-)?logger\.service\.js$/;
const EAGER_FORMATTER = /const dateTimeFormatter = new Intl\.DateTimeFormat\(/;
const lazyLogTime = {
  name: 'lazy-log-time',
  transform(code, id) {
    if (!NEST_LOGGERS.test(id)) return null;
    if (!EAGER_FORMATTER.test(code)) throw new Error(`${id} changed: review lazyLogTime in scripts/bundle.config.mjs`);
    const helper =
      'function lazyDateTimeFormat(...options) { let made; ' +
      'return { format: (date) => (made ??= new Intl.DateTimeFormat(...options)).format(date) }; }\n';
    return { code: code.replace(EAGER_FORMATTER, 'const dateTimeFormatter = lazyDateTimeFormat(') + helper, map: null };
  },
};

const bundle = (app) => ({
  input: { app: `dist/apps/${app}/src/main.js`, ...WORKER_THREADS },
  platform: 'node',
  external: EXTERNAL,
  plugins: [typeormCompat, lazyLogTime, commonJsStart],
  resolve: app === 'cli' ? { alias: CLI_ALIASES } : undefined,
  treeshake: { moduleSideEffects: [{ test: /\/dist\/(libs|migrations)\//, sideEffects: false }] },
  logLevel: 'warn',
  onLog(level, log, handler) {
    // Nest's optional imports (microservices, Fastify's static files) resolve at run time, only when used: never here.
    if (log.code === 'UNRESOLVED_IMPORT' && /@nestjs\/microservices|@fastify\/static/.test(log.message)) return;
    handler(level, log);
  },
  output: {
    dir: `dist/apps/${app}/bundle`,
    format: 'cjs',
    // Packages kept out of the bundle load with `require` (Node ≥ 20.19 requires ES modules too): V8 compiles a file
    // with its code cache only as a script, and `import()` from a script needs a loader of its own.
    dynamicImportInCjs: false,
    charset: 'ascii',
    comments: { legal: true, annotation: true, jsdoc: false },
    chunkFileNames: '[name]-[hash].js',
    cleanDir: true,
  },
});

export default ['api', 'worker', 'cli'].map(bundle);
