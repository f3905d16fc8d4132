import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, writeSafetensors } from '../../../../test/support/corpus-builder.js';
import { linkToDevZero, makeFifo, releaseFifosLater } from '../../../../test/support/hostile-files.js';
import { SidecarError, SidecarErrorReason, SidecarKind } from './facts.js';
import { hashFile } from './hasher.js';
import { inspectAdapterFile } from './inspect-adapter.js';
import { NotARegularFileError, openForRead } from './read-handle.js';
import { SafetensorsHeaderError, SafetensorsHeaderErrorReason, readSafetensorsHeader } from './safetensors-header.js';
import { readSidecar } from './sidecars.js';

let dir: string;
let fifo: string;
let zero: string;
let release: ChildProcess | undefined;

beforeAll(async () => {
  dir = await makeTempDir('read-handle-');
  fifo = join(dir, 'pipe.civitai.info');
  zero = join(dir, 'zero.civitai.info');
  makeFifo(fifo);
  await linkToDevZero(zero);
});
afterEach(() => {
  release?.kill();
  release = undefined;
});
afterAll(async () => {
  await removeTempDir(dir);
});

/** The error `op` fails with; a reader stuck on a FIFO is released after 3 s so the test fails instead of hanging. */
async function failure(fifos: string[], op: () => Promise<unknown>): Promise<unknown> {
  release = releaseFifosLater(fifos, 3000);
  return op().then(
    () => new Error('did not fail'),
    (err: unknown) => err,
  );
}

describe(openForRead.name, () => {
  for (const sync of [false, true]) {
    it(`should refuse a FIFO and a symlink to /dev/zero on the opened handle (${sync ? 'sync' : 'async'})`, async () => {
      expect(await failure([fifo], () => openForRead(fifo, sync))).toMatchObject({
        name: NotARegularFileError.name,
        fileType: 'FIFO',
      });
      expect(await failure([], () => openForRead(zero, sync))).toMatchObject({
        name: NotARegularFileError.name,
        fileType: 'character device',
      });
      expect(await failure([], () => openForRead(dir, sync))).toMatchObject({ fileType: 'directory' });
    });

    it(`should read at most the cap plus one byte (${sync ? 'sync' : 'async'})`, async () => {
      const path = join(dir, `big-${String(sync)}.txt`);
      await writeFile(path, Buffer.alloc(10_000, 0x61));
      const fh = await openForRead(path, sync);
      try {
        expect((await fh.readUpTo(100)).length).toBe(101);
        expect((await fh.readUpTo(10_000)).length).toBe(10_000);
        expect((await fh.readUpTo(50_000)).length).toBe(10_000);
      } finally {
        await fh.close();
      }
    });
  }
});

describe('readers given a file that is not a regular file', () => {
  for (const syncIo of [false, true]) {
    it(`should report a sidecar FIFO or /dev/zero link as not_a_file (${syncIo ? 'sync' : 'async'})`, async () => {
      for (const path of [fifo, zero]) {
        const err = await failure([fifo], () =>
          readSidecar(path, SidecarKind.CivitaiInfo, { fileName: 'x.safetensors' }, { syncIo }),
        );
        expect(err).toBeInstanceOf(SidecarError);
        expect(err).toMatchObject({ reason: SidecarErrorReason.NotAFile, path });
      }
    });

    it(`should report a LoRA that is a FIFO or a /dev/zero link as not_a_file (${syncIo ? 'sync' : 'async'})`, async () => {
      const loraFifo = join(dir, `pipe-${String(syncIo)}.safetensors`);
      makeFifo(loraFifo);
      const loraZero = join(dir, `zero-${String(syncIo)}.safetensors`);
      await linkToDevZero(loraZero);
      for (const path of [loraFifo, loraZero]) {
        const err = await failure([loraFifo], () => readSafetensorsHeader(path, { syncIo }));
        expect(err).toBeInstanceOf(SafetensorsHeaderError);
        expect(err).toMatchObject({ reason: SafetensorsHeaderErrorReason.NotAFile });
      }
    });
  }

  it('should not hash a FIFO or /dev/zero', async () => {
    expect(await failure([fifo], () => hashFile(fifo))).toBeInstanceOf(NotARegularFileError);
    expect(await failure([], () => hashFile(zero))).toBeInstanceOf(NotARegularFileError);
  });

  it('should import a LoRA whose sidecars are a FIFO and a /dev/zero link, with each refusal as a warning', async () => {
    const folder = await makeTempDir('hostile-sidecars-');
    try {
      await writeSafetensors(join(folder, 'style.safetensors'), { metadata: { ss_output_name: 'style' } });
      makeFifo(join(folder, 'style.civitai.info'));
      await linkToDevZero(join(folder, 'style.json'));
      makeFifo(join(folder, 'style.metadata.json'));
      for (const syncIo of [false, true]) {
        const fifos = [join(folder, 'style.civitai.info'), join(folder, 'style.metadata.json')];
        release = releaseFifosLater(fifos, 3000);
        const result = await inspectAdapterFile(
          { absPath: join(folder, 'style.safetensors') },
          { header: { syncIo }, sidecar: { syncIo } },
        );
        release.kill();
        expect(result.header?.metadata).toMatchObject({ ss_output_name: 'style' });
        expect(result.hashes?.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(result.sidecarErrors.map((e) => e.reason)).toEqual([
          SidecarErrorReason.NotAFile,
          SidecarErrorReason.NotAFile,
          SidecarErrorReason.NotAFile,
        ]);
        expect(
          result.facts.warnings.filter((w) => w.includes('not_a_file: Sidecar is not a regular file')),
        ).toHaveLength(3);
      }
    } finally {
      await removeTempDir(folder);
    }
  });
});
