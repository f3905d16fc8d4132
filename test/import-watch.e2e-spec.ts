/**
 * The folder watcher and the start-up import in embedded mode: a real API process on SQLite with LORA_WATCH=true
 * and IMPORT_ON_START=true over a library on disk that the test changes as a user (or a copy to a NAS) would.
 */
import { appendFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppProcess, freePort } from './support/app-process.js';
import { generateCorpus } from './support/corpus-builder.js';
import { tempDir } from './support/test-services.js';
import { LibraryClient, loraBytes, sleep, waitFor } from './support/watch-library.js';

const CORPUS = 20;
/** Files written at once into one folder by the burst: each is a change the watcher sees. */
const BURST = 5000;

describe('folder watcher on SQLite (embedded API, LORA_WATCH=true)', () => {
  const dir = tempDir('watch');
  const root = join(dir.path, 'loras');
  let api: AppProcess;
  let lib: LibraryClient;

  beforeAll(async () => {
    await generateCorpus(root, CORPUS, { perDir: 10, sidecars: false });
    const port = await freePort();
    api = new AppProcess(
      'api',
      {
        PORT: String(port),
        DATA_DIR: join(dir.path, 'data'),
        LORA_ROOTS: root,
        LORA_WATCH: 'true',
        IMPORT_ON_START: 'true',
        LORA_WATCH_DEBOUNCE_SECONDS: '0.5',
        LORA_WATCH_SETTLE_SECONDS: '1.5',
        // Background hashing of the 5,000 burst files would only slow these tests down.
        HASH_AFTER_IMPORT: 'false',
      },
      port,
    ).start();
    await api.waitReady();
    lib = new LibraryClient(api.baseUrl);
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    dir.remove();
  });

  it('should import every root at start-up, once', async () => {
    await waitFor('the start-up import', async () => (await lib.total()) === CORPUS, 30_000, 100);
    const runs = await lib.idle();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'completed', roots: [root] });
    expect(runs[0].counts).toMatchObject({ added: CORPUS, failed: 0 });
    // The watcher is up once the start-up import is: it logs that it watches.
    await waitFor('the watcher to start', () => api.text.includes('Watching 1 library root(s)'), 20_000, 100);
  }, 90_000);

  it('should import a copied file by importing only its folder', async () => {
    const before = (await lib.runs()).length;
    await writeFile(join(root, 'd0001', 'copied_in.safetensors'), loraBytes('copied_in'));
    await waitFor('the copied file to be listed', async () => (await lib.total({ q: 'copied_in' })) === 1);
    const runs = await lib.idle();
    expect(runs).toHaveLength(before + 1);
    expect(runs[0]).toMatchObject({ status: 'completed', roots: [join(root, 'd0001')] });
    expect(runs[0].counts).toMatchObject({ added: 1, seen: 11, missing: 0 });
  });

  it('should not import a file while it is being written, and import it once its size settles', async () => {
    const bytes = loraBytes('slow_copy');
    const path = join(root, 'd0000', 'slow_copy.safetensors');
    const runsBefore = (await lib.runs()).length;
    // A copy in progress: the header and some data now, the rest in pieces further apart than the debounce time
    // (that alone would import the partial file) and closer together than the settle time.
    const pieces = 5;
    const size = Math.ceil(bytes.length / pieces);
    await writeFile(path, bytes.subarray(0, size));
    for (let i = 1; i < pieces; i++) {
      await sleep(800);
      expect(await lib.total({ q: 'slow_copy' })).toBe(0);
      await appendFile(path, bytes.subarray(i * size, (i + 1) * size));
    }
    expect((await lib.runs()).length).toBe(runsBefore);
    await waitFor('the finished copy to be listed', async () => (await lib.total({ q: 'slow_copy' })) === 1);
    const runs = await lib.idle();
    expect(runs).toHaveLength(runsBefore + 1);
    expect(runs[0].counts).toMatchObject({ added: 1, failed: 0 });
    expect(runs[0].failures).toEqual([]);
  });

  it(`should turn a burst of ${BURST} new files into one import run`, async () => {
    const runsBefore = (await lib.runs()).length;
    const live = await lib.total();
    await generateCorpus(join(root, 'burst'), BURST, { perDir: BURST, sidecars: false, seed: 'burst' });
    await waitFor('the burst to be imported', async () => (await lib.total()) === live + BURST, 60_000, 200);
    const runs = await lib.idle();
    expect(runs).toHaveLength(runsBefore + 1);
    expect(runs[0]).toMatchObject({ status: 'completed', roots: [join(root, 'burst')] });
    expect(runs[0].counts).toMatchObject({ added: BURST, failed: 0 });
  }, 90_000);

  it('should pick up a change in that folder of 5,000 files by importing the folder only', async () => {
    const before = (await lib.runs()).length;
    await writeFile(join(root, 'burst', 'd0000', 'big_new.safetensors'), loraBytes('big_new'));
    const ms = await waitFor('the file in the big folder', async () => (await lib.total({ q: 'big_new' })) === 1);
    const runs = await lib.idle();
    expect(runs).toHaveLength(before + 1);
    expect(runs[0]).toMatchObject({ status: 'completed', roots: [join(root, 'burst', 'd0000')] });
    expect(runs[0].counts).toMatchObject({ added: 1, unchanged: BURST, seen: BURST + 1 });
    expect(ms).toBeLessThan(15_000);
  });

  it('should turn a deleted file into a tombstone', async () => {
    await rm(join(root, 'd0000', 'lora_00003.safetensors'));
    await waitFor('the deleted file to be a tombstone', async () => (await lib.total({ missing: true })) === 1);
    await lib.idle();
  });

  it('should leave the files of a root that disappears alone, and import it again when it is back', async () => {
    const live = await lib.total();
    const runsBefore = (await lib.runs()).length;
    // The share goes offline: the root folder is gone…
    await rename(root, `${root}.offline`);
    await sleep(2500);
    // …and then an empty mount point is left where it was.
    await mkdir(root);
    await sleep(2500);
    expect(await lib.total()).toBe(live);
    expect(await lib.total({ missing: true })).toBe(1);
    expect((await lib.runs()).length).toBe(runsBefore);
    expect(api.text).toContain('is missing: its files are left as they are');

    // Back online: the root is imported whole (nothing changed in it) and watched again.
    await rm(root, { recursive: true });
    await rename(`${root}.offline`, root);
    await waitFor('the returned root to be imported', async () => (await lib.runs()).length === runsBefore + 1);
    const runs = await lib.idle();
    expect(runs[0]).toMatchObject({ status: 'completed', roots: [root] });
    expect(runs[0].counts).toMatchObject({ missing: 0, added: 0 });
    expect(await lib.total()).toBe(live);
    await writeFile(join(root, 'd0001', 'after_return.safetensors'), loraBytes('after_return'));
    await waitFor('a file copied after the return', async () => (await lib.total({ q: 'after_return' })) === 1);
  }, 60_000);
});

describe('npm run cli -- import --watch', () => {
  const dir = tempDir('watch-cli');
  const root = join(dir.path, 'loras');
  let cli: AppProcess | undefined;

  afterAll(async () => {
    await cli?.stop();
    dir.remove();
  });

  it('should import, then import what changes until stopped', async () => {
    await generateCorpus(root, 10, { perDir: 10, sidecars: false });
    cli = new AppProcess('cli', {
      DATA_DIR: join(dir.path, 'data'),
      LORA_ROOTS: root,
      LORA_WATCH_DEBOUNCE_SECONDS: '0.3',
      LORA_WATCH_SETTLE_SECONDS: '0.3',
      HASH_AFTER_IMPORT: 'false',
    }).start(['import', '--watch']);
    const watching = () => cli!.text.includes('Watching the library roots for changes');
    await waitFor('the CLI to watch', watching, 30_000, 100);
    expect(cli.text).toMatch(/added\s+10\n/);
    await writeFile(join(root, 'd0000', 'copied_in.safetensors'), loraBytes('copied_in'));
    await waitFor(
      'the CLI to import the copied file',
      () => /imported .*d0000 in [\d.]+ s: added 1, /.test(cli!.text),
      15_000,
      100,
    );
    expect(await cli.stop('SIGINT')).toBe(0);
  }, 60_000);
});
