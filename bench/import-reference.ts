// The plain-Node reference importer that bench:import runs beside the CLI, each as its own process (issue #21):
// the essential work of an import with no framework. `import`: walk the roots, stat every file, parse each
// .safetensors header and its sidecars, SHA-256 every file, one prepared INSERT per adapter in one transaction
// (better-sqlite3, WAL). `resync`: walk, stat, compare with the stored size and mtime; a changed file is read
// and hashed again and its row updated. Prints one JSON line with its counts, then exits.
//   node dist/bench/import-reference.js import|resync <database> <root> [<root> …]
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const SIDECAR_SUFFIXES = ['.civitai.info', '.json', '.metadata.json', '.cm-info.json', '.swarm.json', '.txt'];
const PREVIEW_SUFFIXES = ['.png', '.preview.png', '.jpg', '.jpeg', '.webp'];
const CHUNK = 1 << 20;

interface Found {
  path: string;
  size: number;
  mtimeMs: number;
  /** The names in its folder (to find sidecars without a stat each). */
  siblings: Set<string>;
}

function walk(dir: string, out: Found[]): void {
  const entries = readdirSync(dir, { withFileTypes: true });
  const names = new Set(entries.map((e) => e.name));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path, out);
    else if (e.name.endsWith('.safetensors')) {
      const st = statSync(path);
      out.push({ path, size: st.size, mtimeMs: st.mtimeMs, siblings: names });
    }
  }
}

const buffer = Buffer.allocUnsafe(CHUNK);

/** Reads the file once: the header's JSON parsed on the way, every byte hashed. */
function readAdapter(file: Found): unknown[] {
  const hash = createHash('sha256');
  const fd = openSync(file.path, 'r');
  let header: unknown = null;
  try {
    let position = 0;
    let first = true;
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, position);
      if (n === 0) break;
      if (first) {
        first = false;
        const length = Number(buffer.readBigUInt64LE(0));
        const json = length + 8 <= n ? buffer.toString('utf8', 8, 8 + length) : readHeader(fd, length);
        header = JSON.parse(json);
      }
      hash.update(buffer.subarray(0, n));
      position += n;
    }
  } finally {
    closeSync(fd);
  }
  const stem = file.path.slice(0, -'.safetensors'.length);
  const name = stem.slice(stem.lastIndexOf('/') + 1);
  const sidecars: Record<string, unknown> = {};
  for (const suffix of SIDECAR_SUFFIXES) {
    if (!file.siblings.has(name + suffix)) continue;
    const text = readFileSync(stem + suffix, 'utf8');
    sidecars[suffix] = suffix === '.txt' ? text : JSON.parse(text);
  }
  const preview = PREVIEW_SUFFIXES.find((s) => file.siblings.has(name + s)) ?? null;
  return [
    file.path,
    name,
    file.size,
    file.mtimeMs,
    hash.digest('hex'),
    JSON.stringify(header),
    JSON.stringify(sidecars),
    preview && stem + preview,
  ];
}

function readHeader(fd: number, length: number): string {
  const header = Buffer.allocUnsafe(length);
  readSync(fd, header, 0, length, 8);
  return header.toString('utf8');
}

const [mode, database, ...roots] = process.argv.slice(2);
if ((mode !== 'import' && mode !== 'resync') || !database || roots.length === 0) {
  process.stderr.write('usage: import-reference import|resync <database> <root> [<root> …]\n');
  process.exit(2);
}
const db = new Database(database);
db.pragma('journal_mode = WAL');
db.exec(
  'CREATE TABLE IF NOT EXISTS adapters (path TEXT PRIMARY KEY, name TEXT, size INTEGER, mtime REAL, sha256 TEXT, ' +
    'header TEXT, sidecars TEXT, preview TEXT)',
);
const files: Found[] = [];
for (const root of roots) walk(root, files);
const counts = { seen: files.length, added: 0, updated: 0, unchanged: 0 };
if (mode === 'import') {
  const insert = db.prepare('INSERT OR REPLACE INTO adapters VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const file of files) insert.run(...readAdapter(file));
  })();
  counts.added = files.length;
} else {
  const stored = new Map<string, { size: number; mtime: number }>();
  for (const row of db.prepare('SELECT path, size, mtime FROM adapters').iterate() as Iterable<{
    path: string;
    size: number;
    mtime: number;
  }>)
    stored.set(row.path, row);
  const changed = files.filter((f) => {
    const known = stored.get(f.path);
    return !known || known.size !== f.size || known.mtime !== f.mtimeMs;
  });
  const upsert = db.prepare('INSERT OR REPLACE INTO adapters VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const file of changed) upsert.run(...readAdapter(file));
  })();
  counts.updated = changed.length;
  counts.unchanged = files.length - changed.length;
}
db.close();
process.stdout.write(`${JSON.stringify(counts)}\n`);
