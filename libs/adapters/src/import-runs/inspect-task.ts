// One file's read: header, hashes, sidecars, preview → the complete row to write. Runs on the main thread
// or in an import worker thread (`inspect.worker.ts`): it imports no ORM and no Nest, and its input and
// output survive structured cloning.

import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errorMessage } from '../reading/error-message.js';
import type { FileHashes } from '../reading/hasher.js';
import { inspectAdapterFile } from '../reading/inspect-adapter.js';
import type { ScannedFile } from '../reading/scanner.js';
import type { AdapterEntity, AdapterSidecarRef } from '../library/adapter.entity.js';
import type { AdapterSnapshot } from '../library/adapter.repository.js';
import type { LibraryRoot } from '../library/library-roots.js';
import { buildUndigestedRow, digested } from './adapter-row.js';
import type { ImportFailure } from './import-run.entity.js';

export interface InspectTask {
  file: ScannedFile;
  root: LibraryRoot;
  /** The row's user fields when the file already has one (a resync never loses an edit). */
  existing?: AdapterSnapshot;
  /** Hashes known already (cached by size and mtime, or computed to detect a move). */
  hashes?: FileHashes;
  /** Hash the whole file (`--hash full`). */
  hash: boolean;
}

export interface InspectOutcome {
  /** Null when the file cannot be read as a LoRA (the reason is in `failures`). */
  row: AdapterEntity | null;
  /** Why the file could not be read (a bad header, an unexpected error); a broken sidecar is a warning on the row. */
  failures: ImportFailure[];
  /** The file's hashes were computed by this read. */
  hashed: boolean;
  /**
   * Set when the read left the row's `factsDigest` to its receiver (`leaveDigest`): the files' values of the fields
   * the user has edited, for `digestOutcome`.
   */
  factsFromFiles?: Partial<Record<string, unknown>>;
}

/** The outcome's row with its digest, when the read left it to the receiver (a worker thread's read). */
export function digestOutcome(outcome: InspectOutcome): InspectOutcome {
  if (outcome.factsFromFiles && outcome.row) {
    digested(outcome.row, outcome.factsFromFiles);
    delete outcome.factsFromFiles;
  }
  return outcome;
}

/**
 * Reads one file into its row. `syncIo` reads with synchronous calls: fastest for many small files, and
 * harmless off the main thread; on the main thread only one-shot processes (the CLI) use it. `leaveDigest`: the
 * row's `factsDigest` is left null for the receiver to add with `digestOutcome` (see `buildUndigestedRow`).
 */
export async function inspectToRow(
  task: InspectTask,
  now: Date,
  syncIo: boolean,
  leaveDigest = false,
): Promise<InspectOutcome> {
  const { file } = task;
  const failures: ImportFailure[] = [];
  try {
    const result = await inspectAdapterFile(
      { absPath: file.absPath, dirListing: file.dirListing },
      {
        hash: task.hash,
        knownHashes: task.hashes,
        header: { syncIo },
        sidecar: { syncIo },
        remoteCivitai: task.existing?.civitaiRemote ?? undefined,
      },
    );
    const hashed = result.hashes !== undefined && task.hashes === undefined;
    if (result.headerError) {
      failures.push({ path: file.absPath, reason: `${result.headerError.reason}: ${result.headerError.message}` });
      return { row: null, failures, hashed };
    }
    const dir = dirname(file.absPath);
    const sidecars: AdapterSidecarRef[] = result.sidecars
      .filter((s) => s.file)
      .map((s) => ({ kind: s.kind, fileName: s.file!.fileName, size: s.file!.size, mtimeMs: s.file!.mtimeMs }));
    // Sidecars that failed to parse still count for change detection, so a fixed one is re-read.
    for (const e of result.sidecarErrors) {
      if (!e.path) continue;
      try {
        const s = syncIo ? statSync(e.path) : await stat(e.path);
        sidecars.push({
          kind: e.kind ?? 'unknown',
          fileName: resolve(e.path).slice(dir.length + 1),
          size: s.size,
          mtimeMs: s.mtimeMs,
        });
      } catch {
        // gone meanwhile
      }
    }
    const { row, fromFiles } = buildUndigestedRow(result.facts, file, task.root, sidecars, task.existing, now);
    return leaveDigest
      ? { row, failures, hashed, factsFromFiles: fromFiles }
      : { row: digested(row, fromFiles), failures, hashed };
  } catch (error) {
    failures.push({ path: file.absPath, reason: errorMessage(error) });
    return { row: null, failures, hashed: false };
  }
}
