// Archive benchmark: `npm run bench:archive`. Seeds a SQLite library of N adapters (BENCH_ARCHIVE_ADAPTERS, default
// 20,000) of which F have real files (BENCH_ARCHIVE_FILES × BENCH_ARCHIVE_FILE_MB, default 40 × 8 MiB of
// incompressible bytes, like LoRA weights), then prints: export MB/s with files through the CLI beside plain
// zip-stream zipping the same files in this process and a plain stream copy of the same bytes, and import rate (adapters/s) of a rows-only archive into an empty
// database. CLI figures subtract one CLI start-up (`migrate --check`) measured in the same run.
import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { rootIdOf } from '../libs/adapters/src/library/library-roots.js';
import { plainZip } from './bench-util.js';
import { openSeedDb, seedAdapters, type SeedAdapter } from '../test/support/adapter-seed.js';
import { runCli } from '../test/support/app-process.js';

const N = Number(process.env.BENCH_ARCHIVE_ADAPTERS ?? 20_000);
const F = Number(process.env.BENCH_ARCHIVE_FILES ?? 40);
const FILE_MB = Number(process.env.BENCH_ARCHIVE_FILE_MB ?? 8);

const tmp = mkdtempSync(join(tmpdir(), 'lm-bench-archive-'));
const root = join(tmp, 'library');
mkdirSync(root, { recursive: true });
const source = { DATA_DIR: join(tmp, 'source'), LORA_ROOTS: root };
const target = { DATA_DIR: join(tmp, 'target'), LORA_ROOTS: join(tmp, 'library-target') };
mkdirSync(target.LORA_ROOTS, { recursive: true });

const wall = async (fn: () => Promise<void>): Promise<number> => {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
};
const cli = async (args: string[], env: Record<string, string>) => {
  const { code, output } = await runCli(args, env, 600_000);
  if (code !== 0) throw new Error(`cli ${args.join(' ')} failed:\n${output}`);
};

try {
  await cli(['migrate'], source);
  const files: string[] = [];
  for (let i = 0; i < F; i++) {
    const path = join(root, `lora-${i}.safetensors`);
    writeFileSync(path, randomBytes(FILE_MB * 1024 * 1024));
    files.push(path);
  }
  const rootId = rootIdOf(realpathSync(root));
  const adapters: SeedAdapter[] = Array.from({ length: N }, (_, i) => ({
    rootId,
    relativePath: i < F ? `lora-${i}.safetensors` : `folder-${i % 100}/missing-${i}.safetensors`,
    name: `LoRA ${i}`,
    tags: ['style', `t${i % 50}`],
    triggerWords: [`word${i}`],
    favorite: i % 7 === 0,
    fileSize: FILE_MB * 1024 * 1024,
  }));
  const db = await openSeedDb(`sqlite:${join(source.DATA_DIR, 'lora-manager.sqlite')}`);
  for (let i = 0; i < N; i += 5000) await seedAdapters(db, adapters.slice(i, i + 5000));
  await db.close();

  const startup = await wall(() => cli(['migrate', '--check'], source));
  const withFiles = join(tmp, 'with-files.zip');
  const exportS = (await wall(() => cli(['export', withFiles, '--with-files'], source))) - startup;
  const exportMb = statSync(withFiles).size / 1048576;

  const plain = join(tmp, 'plain.zip');
  const plainS = await wall(async () => {
    await plainZip(
      files.map((f, i) => [`files/${i}.safetensors`, f]),
      createWriteStream(plain),
    );
  });
  const plainMb = statSync(plain).size / 1048576;

  // The floor: the same bytes read and written once, no archive format at all.
  const copies = join(tmp, 'copies');
  mkdirSync(copies);
  const copyS = await wall(async () => {
    for (const [i, f] of files.entries()) await pipeline(createReadStream(f), createWriteStream(join(copies, `${i}`)));
  });
  const copyMb = (F * FILE_MB * 1024 * 1024) / 1048576;

  const rows = join(tmp, 'rows.zip');
  const rowsExportS = (await wall(() => cli(['export', rows], source))) - startup;
  await cli(['migrate'], target);
  const importS = (await wall(() => cli(['import-archive', rows], target))) - startup;
  const dryS = (await wall(() => cli(['import-archive', rows, '--dry-run'], target))) - startup;

  const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(46)} ${value}\n`);
  line('adapters / files', `${N} / ${F} × ${FILE_MB} MiB`);
  line('CLI start-up subtracted', `${startup.toFixed(2)} s`);
  line(
    'export --with-files',
    `${(exportMb / exportS).toFixed(0)} MB/s (${exportMb.toFixed(0)} MiB in ${exportS.toFixed(2)} s)`,
  );
  line(
    'baseline: plain zip-stream, same files',
    `${(plainMb / plainS).toFixed(0)} MB/s (${plainMb.toFixed(0)} MiB in ${plainS.toFixed(2)} s)`,
  );
  line(
    'baseline: plain copy of the same bytes',
    `${(copyMb / copyS).toFixed(0)} MB/s (${copyMb.toFixed(0)} MiB in ${copyS.toFixed(2)} s)`,
  );
  line('export rows only', `${(N / rowsExportS).toFixed(0)} adapters/s (${statSync(rows).size} bytes)`);
  line('import-archive into an empty database', `${(N / importS).toFixed(0)} adapters/s (${importS.toFixed(2)} s)`);
  line('import-archive --dry-run (all merge: unchanged)', `${(N / dryS).toFixed(0)} adapters/s (${dryS.toFixed(2)} s)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
