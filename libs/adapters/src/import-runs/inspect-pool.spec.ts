import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ChunkHandler, InspectPool } from './inspect-pool.js';
import type { InspectOutcome, InspectTask } from './inspect-task.js';

// The pool's protocol, run against small worker scripts: the real worker (which reads files) is exercised by
// the CLI import e2e tests, which run the compiled product.
const dir = mkdtempSync(join(tmpdir(), 'lm-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = (name: string, body: string): URL => {
  const path = join(dir, `${name}.mjs`);
  writeFileSync(path, `import { parentPort } from 'node:worker_threads';\n${body}\n`);
  return pathToFileURL(path);
};

/** Answers every task with a row naming the task's file and the worker's thread id. */
const ECHO = script(
  'echo',
  `import { threadId } from 'node:worker_threads';
   parentPort.on('message', ({ id, now, tasks }) => parentPort.postMessage({
     id, outcomes: tasks.map((t) => ({ row: { relativePath: t.file.relPath, thread: threadId, now }, failures: [] })),
   }));`,
);

const tasks = (n: number): InspectTask[] =>
  Array.from({ length: n }, (_, i) => ({
    file: {
      type: 'file',
      absPath: `/lib/f${i}.safetensors`,
      relPath: `f${i}.safetensors`,
      name: `f${i}.safetensors`,
      size: 1,
      mtimeMs: 1,
      dev: 1,
      ino: i,
      viaSymlink: false,
      dirListing: [],
    },
    root: { id: 'r', path: '/lib', realPath: '/lib' },
    hash: false,
  }));

/** One run, as the import service drives it: start, submit, finish. */
const run = (
  pool: InspectPool,
  input: InspectTask[],
  now: Date,
  onChunk: ChunkHandler,
  signal?: AbortSignal,
): Promise<void> => {
  pool.start(now, onChunk, signal);
  pool.submit(input);
  return pool.finish();
};

const collect = async (pool: InspectPool, input: InspectTask[], signal?: AbortSignal) => {
  const seen: { task: InspectTask; outcome: InspectOutcome }[] = [];
  let active = 0;
  let overlapped = false;
  await run(
    pool,
    input,
    new Date(1_700_000_000_000),
    async (outcomes, chunk) => {
      active++;
      if (active > 1) overlapped = true;
      await new Promise((r) => setTimeout(r, 1));
      outcomes.forEach((outcome, i) => seen.push({ task: chunk[i], outcome }));
      active--;
    },
    signal,
  );
  return { seen, overlapped };
};

describe('InspectPool', () => {
  it('should hand back every task exactly once, paired with its own outcome, one chunk at a time', async () => {
    const pool = InspectPool.open({ size: 3, workerUrl: ECHO })!;
    try {
      const input = tasks(1234);
      const { seen, overlapped } = await collect(pool, input);
      expect(overlapped).toBe(false);
      expect(seen).toHaveLength(1234);
      expect(new Set(seen.map((s) => s.task)).size).toBe(1234);
      for (const { task, outcome } of seen) {
        expect(outcome.row).toMatchObject({ relativePath: task.file.relPath, now: 1_700_000_000_000 });
      }
      // Work is spread over the threads.
      expect(new Set(seen.map((s) => (s.outcome.row as unknown as { thread: number }).thread)).size).toBeGreaterThan(1);
    } finally {
      await pool.close();
    }
  });

  it('should finish at once when there is nothing to read', async () => {
    const pool = InspectPool.open({ size: 1, workerUrl: ECHO })!;
    try {
      expect((await collect(pool, [])).seen).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('should not open a pool without threads or without a worker script', () => {
    expect(InspectPool.open({ size: 0, workerUrl: ECHO })).toBeNull();
    expect(InspectPool.open({ size: 2, workerUrl: pathToFileURL(join(dir, 'missing.mjs')) })).toBeNull();
  });

  it.each([
    ['throws while loading', 'throw new Error("bad build");', /import worker failed: bad build/],
    ['exits', 'parentPort.on("message", () => process.exit(3));', /import worker exited with code 3/],
    [
      'answers with an error',
      'parentPort.on("message", ({ id }) => parentPort.postMessage({ id, error: "disk on fire" }));',
      /import worker failed: disk on fire/,
    ],
  ])('should fail the import with the reason when a worker %s', async (name, body, reason) => {
    const pool = InspectPool.open({ size: 2, workerUrl: script(name.replaceAll(' ', '-'), body) })!;
    try {
      await expect(collect(pool, tasks(500))).rejects.toThrow(reason);
    } finally {
      await pool.close();
    }
  });

  it('should stop when the import is cancelled', async () => {
    const slow = script(
      'slow',
      `parentPort.on('message', ({ id, tasks }) => setTimeout(() => parentPort.postMessage({
         id, outcomes: tasks.map(() => ({ row: null, failures: [] })) }), 50));`,
    );
    const pool = InspectPool.open({ size: 1, workerUrl: slow })!;
    try {
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 20);
      await expect(collect(pool, tasks(5000), abort.signal)).rejects.toThrow('import cancelled');
    } finally {
      await pool.close();
    }
  });

  it('should fail with the error of the caller when handling a chunk throws', async () => {
    const pool = InspectPool.open({ size: 2, workerUrl: ECHO })!;
    try {
      await expect(
        run(pool, tasks(600), new Date(), () => {
          throw new Error('database is locked');
        }),
      ).rejects.toThrow('database is locked');
    } finally {
      await pool.close();
    }
  });
});
