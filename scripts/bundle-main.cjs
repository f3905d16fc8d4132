'use strict';
// The entry of every bundled app (written as main.js into dist/apps/<app>/bundle by scripts/bundle.config.mjs): it
// starts the app (app.js beside it) with V8's code cache for the bundle's own files.
//
// Why: each start compiled about 4 MB of JavaScript again (Nest, typeorm, zod, the app), and then every function it
// ran for the first time. V8 can write the code it has compiled, after it ran, to a cache that a later process loads
// instead of compiling (`vm.Script#createCachedData`). Node 20 has no module compile cache of its own (22.1 has one,
// made when a file is compiled, before it runs: it holds only the top-level code, like the v8-compile-cache package;
// measured here, that saved a third of what a cache made after the run saves). `cli import` start-up: 465 → 360 ms.
//
// How: CommonJS files of this bundle are compiled here rather than by Node, each with the cache written for it, if
// any. Every file that had no cache (or whose cache V8 refused) gets one, holding what the process compiled: when it
// exits with code 0 (a CLI command), or once it has run WRITE_AFTER_MS since the file loaded (the API and the worker,
// which a signal stops without an 'exit' event; then a cache that grew by a tenth is written again too, so a cache
// made by a short run does not stay). A process that failed (a bad environment stops an app before it does anything)
// writes nothing: its cache would hold too little. A cache is keyed by the file's name, size and modification time
// (V8 itself checks only the source's length, its own version and its flags), so a rebuilt bundle never runs stale
// code; a cache V8 refuses (a new Node, other V8 flags) is written again. The cache is only ever a speed-up: a folder
// that cannot be written, a missing or damaged file, and the app starts as it would without one.
//
// CODE_CACHE_DIR: a folder for the caches (default: .code-cache beside this file); `off` turns the cache off.
const { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { basename, dirname, join, sep } = require('node:path');
const vm = require('node:vm');

const setting = process.env.CODE_CACHE_DIR;
/**
 * One cache a command (the first argument, when it is a word: `import`, `migrate`; `default` for the API and the
 * worker): a cache holds the functions its first run compiled, and `cli migrate` runs few of those `cli import` runs.
 */
const command = /^[a-z][a-z-]{0,31}$/.test(process.argv[2] ?? '') ? process.argv[2] : 'default';
/** Beside the bundle, or in CODE_CACHE_DIR under the app's name (`api`, `worker`, `cli`): apps never share a cache. */
const cacheRoot = setting ? join(setting, basename(dirname(__dirname))) : join(__dirname, '.code-cache');
const cacheDir = setting === 'off' ? null : join(cacheRoot, command);

/** Files compiled without a usable cache: written when the process exits, or WRITE_AFTER_MS after they loaded. */
const pending = [];
/** Files compiled with their cache: written again WRITE_AFTER_MS after they loaded, if it grew by a tenth. */
const cached = [];
/** How long an app runs before its caches are written (a server's start-up, and its first requests, are done). */
const WRITE_AFTER_MS = 10_000;
let writeTimer = null;

/** Writes the caches WRITE_AFTER_MS from now, unless a write is already due (files loaded later get one too). */
function writeSoon() {
  writeTimer ??= setTimeout(() => {
    writeTimer = null;
    writeCaches(true);
  }, WRITE_AFTER_MS).unref();
}

/** The cache file of a bundle file: a new build of the file (new size or time) is a new name. */
function cacheFileOf(filename) {
  const stat = statSync(filename);
  return join(cacheDir, `${basename(filename)}.${stat.size}.${Math.trunc(stat.mtimeMs)}.v8`);
}

function readCache(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** The `require` Node gives a module (resolved from it, with it as the parent of what it loads). */
function requireFor(module) {
  const require = (id) => module.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, module);
  require.main = process.mainModule;
  require.cache = Module._cache;
  return require;
}

/** Runs `write`, ignoring a failure: a cache not written (a read-only folder, a full disk) only means no cache. */
function tryTo(write) {
  try {
    write();
  } catch {
    // The next start compiles, as without a cache.
  }
}

/** Writes the pending caches (and, `grown`, those of `cached` that grew by a tenth); each is written once. */
function writeCaches(grown) {
  const writes = pending.splice(0).map(({ script, file }) => ({ file, data: () => script.createCachedData() }));
  for (const { script, file, size } of grown ? cached.splice(0) : []) {
    const data = script.createCachedData();
    if (data.length > size * 1.1) writes.push({ file, data: () => data });
  }
  if (writes.length === 0) return;
  tryTo(() => mkdirSync(cacheDir, { recursive: true }));
  let present = [];
  tryTo(() => (present = readdirSync(cacheDir)));
  for (const { file, data } of writes) {
    const name = basename(file);
    // Caches of earlier builds of this file (same name, other size or time) are dead weight. Processes exiting
    // together may remove the same one, or write the same cache: each step stands alone.
    const stem = name.slice(0, name.indexOf('.js.') + 4);
    for (const old of present) if (old.startsWith(stem) && old !== name) tryTo(() => unlinkSync(join(cacheDir, old)));
    // Written whole under another name, then renamed: a process starting meanwhile never reads half a cache.
    const partial = `${file}.${process.pid}.partial`;
    tryTo(() => {
      writeFileSync(partial, data());
      renameSync(partial, file);
    });
  }
}

if (cacheDir) {
  const bundle = __dirname + sep;
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename, ...rest) {
    if (!filename.startsWith(bundle) || !filename.endsWith('.js'))
      return compile.call(this, content, filename, ...rest);
    const file = cacheFileOf(filename);
    const cachedData = readCache(file);
    // (A script compiled here has no loader for `import()`: the bundle loads its outside packages with `require`.)
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected) pending.push({ script, file });
    else cached.push({ script, file, size: cachedData.length });
    writeSoon();
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(this.exports, this.exports, requireFor(this), this, filename, dirname(filename));
  };
  process.once('exit', (code) => {
    if (code === 0) writeCaches(false);
  });
}

require('./app.js');
