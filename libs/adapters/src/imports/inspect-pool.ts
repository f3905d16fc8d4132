import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { InspectOutcome, InspectTask } from './inspect-task.js';
import type { InspectReply, InspectRequest } from './inspect.worker.js';

/** The compiled worker script beside this module (absent when the sources run untranspiled, as under jest). */
export const INSPECT_WORKER_URL = new URL('./inspect.worker.js', import.meta.url);

/** Files a worker reads per message: large enough to amortise a message, small enough to keep every thread busy. */
const TASKS_PER_MESSAGE = 200;
/** Messages queued per worker, so it starts the next chunk while the main thread writes the last one. */
const IN_FLIGHT_PER_WORKER = 2;

export interface InspectPoolOptions {
  size: number;
  /** Default: `INSPECT_WORKER_URL`. */
  workerUrl?: URL;
}

/**
 * Worker threads that read files into rows while the main thread scans, compares and writes: on a cold
 * import, parsing headers and sidecars and building rows costs more CPU than writing them.
 */
export class InspectPool {
  private readonly workers: Worker[];

  private constructor(
    readonly size: number,
    url: URL,
  ) {
    this.workers = Array.from({ length: size }, () => new Worker(url));
  }

  /** A pool of `size` threads, or null when there is no compiled worker script to run (sources under jest). */
  static open(options: InspectPoolOptions): InspectPool | null {
    const url = options.workerUrl ?? INSPECT_WORKER_URL;
    if (options.size < 1 || !existsSync(fileURLToPath(url))) return null;
    return new InspectPool(options.size, url);
  }

  /**
   * Reads every task; `onChunk` receives each chunk's outcomes (in completion order, one call at a time) and
   * its promise is awaited before the next. Rejects on the first worker failure, a throwing `onChunk`, or abort.
   */
  map(
    tasks: readonly InspectTask[],
    now: Date,
    onChunk: (outcomes: InspectOutcome[], tasks: readonly InspectTask[]) => Promise<void> | void,
    signal?: AbortSignal,
  ): Promise<void> {
    const chunks: InspectTask[][] = [];
    for (let i = 0; i < tasks.length; i += TASKS_PER_MESSAGE) chunks.push(tasks.slice(i, i + TASKS_PER_MESSAGE));
    if (chunks.length === 0) return Promise.resolve();

    return new Promise<void>((resolvePromise, rejectPromise) => {
      let next = 0;
      let done = 0;
      let settled = false;
      let handling: Promise<void> = Promise.resolve();
      const cleanups: (() => void)[] = [];
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        for (const c of cleanups) c();
        if (error) rejectPromise(error);
        else resolvePromise();
      };
      const send = (worker: Worker) => {
        if (next >= chunks.length || settled) return;
        const id = next++;
        worker.postMessage({ id, now: now.getTime(), tasks: chunks[id] } satisfies InspectRequest);
      };

      for (const worker of this.workers) {
        const onMessage = (reply: InspectReply) => {
          if (settled) return;
          if ('error' in reply) {
            finish(new Error(`import worker failed: ${reply.error}`));
            return;
          }
          send(worker);
          handling = handling.then(async () => {
            if (settled) return;
            await onChunk(reply.outcomes, chunks[reply.id]);
            if (++done === chunks.length) finish();
          });
          handling.catch((error: unknown) => finish(error instanceof Error ? error : new Error(String(error))));
        };
        const onError = (error: Error) => finish(new Error(`import worker failed: ${error.message}`));
        const onExit = (code: number) => finish(new Error(`import worker exited with code ${code}`));
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
        cleanups.push(() => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
        });
        for (let i = 0; i < IN_FLIGHT_PER_WORKER; i++) send(worker);
      }

      if (signal) {
        const onAbort = () => finish(new Error('import cancelled'));
        if (signal.aborted) onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
