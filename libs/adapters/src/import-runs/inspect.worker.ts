// An import worker thread: reads the files it is given (header, hashes, sidecars) into rows, with synchronous
// calls (they block only this thread), and posts the rows back; the main thread digests and writes them.

import { parentPort } from 'node:worker_threads';
import { type InspectOutcome, type InspectTask, inspectToRow } from './inspect-task.js';

export interface InspectRequest {
  id: number;
  /** The import's timestamp (ms), the same for every row of one run. */
  now: number;
  tasks: InspectTask[];
}

export type InspectReply = { id: number; outcomes: InspectOutcome[] } | { id: number; error: string };

const port = parentPort;
if (port) {
  port.on('message', (request: InspectRequest) => {
    void (async () => {
      try {
        const now = new Date(request.now);
        const outcomes: InspectOutcome[] = [];
        // The digest is left to the main thread, which otherwise waits for this one.
        for (const task of request.tasks) outcomes.push(await inspectToRow(task, now, true, true));
        port.postMessage({ id: request.id, outcomes } satisfies InspectReply);
      } catch (error) {
        port.postMessage({
          id: request.id,
          error: error instanceof Error ? error.message : String(error),
        } satisfies InspectReply);
      }
    })();
  });
}
