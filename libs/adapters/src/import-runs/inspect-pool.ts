import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { InspectOutcome, InspectTask } from './inspect-task.js';
import type { InspectReply, InspectRequest } from './inspect.worker.js';

/** The compiled worker script beside this module (absent when the sources run untranspiled, as under jest). */
export const INSPECT_WORKER_URL = new URL('./inspect.worker.js', import.meta.url);

/** Files a worker reads per message: large enough to amortise a message, small enough to keep every thread busy. */
const TASKS_PER_MESSAGE = 200;
/**
 * Messages queued per worker, so it never waits for the main thread, which hands out chunks only between its
 * synchronous batch writes (a write lasts a few chunk reads).
 */
const IN_FLIGHT_PER_WORKER = 6;

export interface InspectPoolOptions {
  size: number;
  /** Default: `INSPECT_WORKER_URL`. */
  workerUrl?: URL;
}

export type ChunkHandler = (outcomes: InspectOutcome[], tasks: readonly InspectTask[]) => Promise<void> | void;

interface Slot {
  worker: Worker;
  inFlight: number;
}

/**
 * Worker threads that read files into rows while the main thread scans, compares and writes: on a cold
 * import, parsing headers and sidecars and building rows costs more CPU than writing them. A run is `start`,
 * any number of `submit`s (while the scan still runs, too), then `finish`.
 */
export class InspectPool {
  private readonly slots: Slot[];
  private readonly chunks: InspectTask[][] = [];
  private pending: InspectTask[] = [];
  private sent = 0;
  private handled = 0;
  private inputClosed = false;
  private failure: Error | null = null;
  private handling: Promise<void> = Promise.resolve();
  private onChunk: ChunkHandler | null = null;
  private now = new Date();
  private settle: (() => void) | null = null;
  private readonly cleanups: (() => void)[] = [];

  private constructor(
    readonly size: number,
    url: URL,
  ) {
    this.slots = Array.from({ length: size }, () => {
      const worker = new Worker(url);
      // Kept for the pool's whole life: an 'error' event with no listener would throw in the main thread.
      worker.on('error', (error: Error) => this.fail(new Error(`import worker failed: ${error.message}`)));
      return { worker, inFlight: 0 };
    });
  }

  /** A pool of `size` threads, or null when there is no compiled worker script to run (sources under jest). */
  static open(options: InspectPoolOptions): InspectPool | null {
    const url = options.workerUrl ?? INSPECT_WORKER_URL;
    if (options.size < 1 || !existsSync(fileURLToPath(url))) return null;
    return new InspectPool(options.size, url);
  }

  /**
   * Begin a run: outcomes go to `onChunk`, one call at a time, in completion order, and each call's promise is
   * awaited before the next. The first worker failure, a throwing `onChunk` or an abort ends the run.
   */
  start(now: Date, onChunk: ChunkHandler, signal?: AbortSignal): void {
    this.now = now;
    this.onChunk = onChunk;
    for (const slot of this.slots) {
      const onMessage = (reply: InspectReply) => this.received(slot, reply);
      const onExit = (code: number) => this.fail(new Error(`import worker exited with code ${code}`));
      slot.worker.on('message', onMessage);
      slot.worker.on('exit', onExit);
      this.cleanups.push(() => {
        slot.worker.off('message', onMessage);
        slot.worker.off('exit', onExit);
      });
    }
    if (signal) {
      const onAbort = () => this.fail(new Error('import cancelled'));
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
  }

  /** Queue more files to read; they go out in chunks as threads free up. */
  submit(tasks: readonly InspectTask[]): void {
    if (this.failure) return;
    for (const task of tasks) {
      this.pending.push(task);
      if (this.pending.length >= TASKS_PER_MESSAGE) this.seal();
    }
    this.dispatch();
  }

  /** No more input: resolves once every submitted file is handled, rejects on the first failure. */
  finish(): Promise<void> {
    this.inputClosed = true;
    this.seal();
    this.dispatch();
    return new Promise<void>((resolve, reject) => {
      this.settle = () => (this.failure ? reject(this.failure) : resolve());
      this.settleIfDone();
    });
  }

  async close(): Promise<void> {
    for (const c of this.cleanups.splice(0)) c();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private seal(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(this.pending);
    this.pending = [];
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      while (!this.failure && slot.inFlight < IN_FLIGHT_PER_WORKER && this.sent < this.chunks.length) {
        const id = this.sent++;
        slot.inFlight++;
        slot.worker.postMessage({ id, now: this.now.getTime(), tasks: this.chunks[id] } satisfies InspectRequest);
      }
    }
  }

  private received(slot: Slot, reply: InspectReply): void {
    if (this.failure) return;
    if ('error' in reply) {
      this.fail(new Error(`import worker failed: ${reply.error}`));
      return;
    }
    slot.inFlight--;
    this.dispatch();
    const tasks = this.chunks[reply.id];
    this.handling = this.handling.then(async () => {
      if (this.failure) return;
      try {
        await this.onChunk!(reply.outcomes, tasks);
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      // The chunk is written: let its tasks go.
      this.chunks[reply.id] = [];
      this.handled++;
      this.settleIfDone();
    });
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.settleIfDone();
  }

  private settleIfDone(): void {
    if (!this.settle) return;
    if (this.failure) {
      const settle = this.settle;
      this.settle = null;
      // Let a chunk being written finish before the caller goes on (the chain never rejects).
      void this.handling.then(settle);
    } else if (this.inputClosed && this.pending.length === 0 && this.handled === this.chunks.length) {
      const settle = this.settle;
      this.settle = null;
      settle();
    }
  }
}
