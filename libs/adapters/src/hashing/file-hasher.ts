import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type FileHashes, hashFile } from '../reading/hasher.js';
import type { HashReply, HashRequest } from './hash.worker.js';
import { ReadPacer } from './read-pacer.js';

/** The compiled worker script beside this module (absent when the sources run untranspiled, as under jest). */
export const HASH_WORKER_URL = new URL('./hash.worker.js', import.meta.url);

/**
 * Hashes files one at a time off the main thread: SHA-256 at ~1 GB/s keeps a core busy, and on the API's event
 * loop every 4 MiB chunk would hold up requests for milliseconds. Without a compiled worker script (jest runs the
 * sources) it hashes on the calling thread.
 */
export class FileHasher {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (h: FileHashes) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly bytesPerSecond: number | null,
    private readonly workerUrl: URL = HASH_WORKER_URL,
  ) {
    if (existsSync(fileURLToPath(workerUrl))) this.startWorker();
  }

  get inThread(): boolean {
    return this.worker !== null;
  }

  private startWorker(): void {
    const worker = new Worker(this.workerUrl);
    worker.on('message', (reply: HashReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if ('hashes' in reply) waiter.resolve(reply.hashes);
      else waiter.reject(new Error(reply.error));
    });
    const failAll = (error: Error) => {
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
      this.worker = null;
    };
    worker.on('error', (error: Error) => failAll(new Error(`hash worker failed: ${error.message}`)));
    worker.on('exit', (code) => failAll(new Error(`hash worker exited with code ${code}`)));
    this.worker = worker;
  }

  /** The file's hashes (one read); rejects when the signal aborts, and the worker is then replaced. */
  async hash(path: string, signal: AbortSignal): Promise<FileHashes> {
    signal.throwIfAborted();
    const worker = this.worker;
    if (!worker) {
      const pacer = new ReadPacer(this.bytesPerSecond);
      let last = 0;
      return hashFile(path, {
        signal,
        pace: async (done) => {
          await pacer.take(done - last, signal);
          last = done;
        },
      });
    }
    const id = this.nextId++;
    return new Promise<FileHashes>((resolve, reject) => {
      const onAbort = () => {
        // A hash in progress cannot be stopped from outside the thread: end the thread, start a fresh one.
        this.pending.delete(id);
        reject(new Error('cancelled'));
        void worker.terminate();
        this.worker = null;
        this.startWorker();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (h) => {
          signal.removeEventListener('abort', onAbort);
          resolve(h);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      worker.postMessage({ id, path, bytesPerSecond: this.bytesPerSecond } satisfies HashRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }
}
