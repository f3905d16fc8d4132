// npm run bench:watch — the folder watcher's latency from a file copy to the adapter listed by GET /api/v1/adapters
// (embedded API, LORA_WATCH=true), with default and short debounce/settle times, in polling mode, and into a folder
// of 50,000 files; beside a plain chokidar event's latency for the same kind of copy, measured in the same run.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { watch } from 'chokidar';
import { AppProcess, freePort, runCli } from '../test/support/app-process.js';
import { generateCorpus } from '../test/support/corpus-builder.js';
import { tempDir } from '../test/support/test-services.js';
import { LibraryClient, loraBytes, waitFor } from '../test/support/watch-library.js';
import { percentile, report, time } from './bench-util.js';

const COPIES = Math.max(1, Number(process.env.BENCH_WATCH_COPIES ?? 7));
const BIG_FOLDER = Number(process.env.BENCH_WATCH_FOLDER_FILES ?? 50_000);
const SMALL = 1000;

const dir = tempDir('bench-watch');
const root = join(dir.path, 'loras');
const staging = join(dir.path, 'staging');
let copyNumber = 0;

/** A distinct LoRA file outside the library, ready to be copied in. */
async function stagedFile(): Promise<{ path: string; name: string }> {
  const name = `bench_copy_${++copyNumber}`;
  const path = join(staging, `${name}.safetensors`);
  await writeFile(path, loraBytes(name));
  return { path, name };
}

const summary = (samples: number[]): string =>
  `${percentile(samples, 50).toFixed(0)} ms (${Math.min(...samples).toFixed(0)}–${Math.max(...samples).toFixed(0)})`;

/** Median latency of a plain chokidar `add` event after copying a file into a watched folder. */
async function chokidarBaseline(): Promise<number[]> {
  const folder = join(dir.path, 'plain');
  await mkdir(folder, { recursive: true });
  const watcher = watch(folder, { ignoreInitial: true });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  const samples: number[] = [];
  for (let i = 0; i < COPIES; i++) {
    const file = await stagedFile();
    const target = join(folder, `${file.name}.safetensors`);
    const seen = new Promise<void>((resolve) => {
      const onAdd = (path: string) => {
        if (path !== target) return;
        watcher.off('add', onAdd);
        resolve();
      };
      watcher.on('add', onAdd);
    });
    samples.push((await time(() => copyFile(file.path, target).then(() => seen))).ms);
  }
  await watcher.close();
  return samples;
}

/**
 * Starts the embedded API with the watcher and these settings, then copies files one at a time into `folder` and
 * times each until GET /api/v1/adapters lists it. Also returns how long the watcher took to start.
 */
async function watcherLatency(
  label: string,
  folder: string,
  settings: Record<string, string>,
): Promise<{ samples: number[]; startMs: number }> {
  const port = await freePort();
  const launched = performance.now();
  const api = new AppProcess(
    'api',
    {
      PORT: String(port),
      DATA_DIR: join(dir.path, 'data'),
      LORA_ROOTS: root,
      LORA_WATCH: 'true',
      LOG_LEVEL: 'info',
      // Hashing 51,000 files in the background would measure the hash job, not the watcher.
      HASH_AFTER_IMPORT: 'false',
      ...settings,
    },
    port,
  ).start();
  try {
    await api.waitReady('/health/ready', 120_000);
    const lib = new LibraryClient(api.baseUrl);
    await waitFor('the watcher to start', () => api.text.includes('Watching 1 library root(s)'), 300_000, 20);
    const startMs = performance.now() - launched;
    const samples: number[] = [];
    for (let i = 0; i < COPIES; i++) {
      const file = await stagedFile();
      const started = performance.now();
      await copyFile(file.path, join(folder, `${file.name}.safetensors`));
      await waitFor(`${file.name} to be listed`, async () => (await lib.total({ q: file.name })) === 1, 120_000, 20);
      samples.push(performance.now() - started);
      await lib.idle(120_000);
    }
    process.stdout.write(`  ${label}: ${summary(samples)}\n`);
    return { samples, startMs };
  } finally {
    await api.stop();
  }
}

try {
  await mkdir(staging, { recursive: true });
  process.stdout.write(`Generating ${SMALL} + ${BIG_FOLDER} adapters (the latter in one folder) in ${dir.path} …\n`);
  await generateCorpus(join(root, 'small'), SMALL, { sidecars: false });
  const generated = await time(() =>
    generateCorpus(join(root, 'big'), BIG_FOLDER, { perDir: BIG_FOLDER, sidecars: false, seed: 'big' }),
  );
  process.stdout.write(`  written in ${(generated.ms / 1000).toFixed(1)} s; first import by the CLI …\n`);
  const imported = await time(() =>
    runCli(
      ['import', '--json'],
      { DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: root, LOG_LEVEL: 'warn', HASH_AFTER_IMPORT: 'false' },
      1_200_000,
    ),
  );
  if (imported.value.code !== 0) throw new Error(`import failed:\n${imported.value.output}`);
  process.stdout.write(`  imported in ${(imported.ms / 1000).toFixed(1)} s\n`);

  const baseline = await chokidarBaseline();
  process.stdout.write(`  plain chokidar add event: ${summary(baseline)}\n`);
  const small = join(root, 'small', 'd0000');
  const defaults = await watcherLatency('defaults (debounce 2 s, settle 2 s)', small, {});
  const short = { LORA_WATCH_DEBOUNCE_SECONDS: '0.2', LORA_WATCH_SETTLE_SECONDS: '0.3' };
  const fast = await watcherLatency('debounce 0.2 s, settle 0.3 s', small, short);
  const polled = await watcherLatency('polling every 1 s, debounce 0.2 s, settle 0.3 s', small, {
    ...short,
    LORA_WATCH_POLL_SECONDS: '1',
  });
  const big = await watcherLatency(
    `into a folder of ${BIG_FOLDER} files, 0.2 s / 0.3 s`,
    join(root, 'big', 'd0000'),
    short,
  );

  const base = summary(baseline);
  report(`Folder watcher: file copy → adapter listed by GET /api/v1/adapters (median of ${COPIES}, min–max)`, [
    {
      metric: 'copy → listed, default settings (debounce 2 s, settle 2 s)',
      measured: summary(defaults.samples),
      baseline: base,
    },
    { metric: 'copy → listed, debounce 0.2 s, settle 0.3 s', measured: summary(fast.samples), baseline: base },
    { metric: 'copy → listed, polling every 1 s (0.2 s / 0.3 s)', measured: summary(polled.samples), baseline: base },
    {
      metric: `copy into a folder of ${BIG_FOLDER} files → listed (0.2 s / 0.3 s)`,
      measured: summary(big.samples),
      baseline: base,
    },
    {
      metric: `API start → watching ${SMALL + BIG_FOLDER} files (events)`,
      measured: `${(big.startMs / 1000).toFixed(1)} s`,
      baseline: `first import ${(imported.ms / 1000).toFixed(1)} s`,
    },
  ]);
  process.stdout.write(
    '\nBaseline: a plain chokidar `add` event for the same kind of copy (no settle, no import, no HTTP).\n' +
      'The watcher waits for the debounce and settle times by design; the rest is the import of the folder and the query.\n',
  );
} finally {
  dir.remove();
}
