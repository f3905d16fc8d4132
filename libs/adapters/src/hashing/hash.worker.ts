// The hash job's thread: hashes one file at a time (SHA-256, AutoV2, AutoV3 in one read) so the API's event loop
// never waits for a chunk to be hashed.

import { parentPort } from 'node:worker_threads';
import { type FileHashes, hashFile } from '../reading/hasher.js';
import { ReadPacer } from './read-pacer.js';

export interface HashRequest {
  id: number;
  path: string;
  bytesPerSecond: number | null;
}

export type HashReply = { id: number; hashes: FileHashes } | { id: number; error: string };

const port = parentPort;
if (port) {
  port.on('message', (request: HashRequest) => {
    void (async () => {
      try {
        const pacer = new ReadPacer(request.bytesPerSecond);
        let last = 0;
        const hashes = await hashFile(request.path, {
          pace: async (done) => {
            await pacer.take(done - last);
            last = done;
          },
        });
        port.postMessage({ id: request.id, hashes } satisfies HashReply);
      } catch (error) {
        port.postMessage({
          id: request.id,
          error: error instanceof Error ? error.message : String(error),
        } satisfies HashReply);
      }
    })();
  });
}
