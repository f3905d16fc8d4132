import type { ImportCounts } from '@app/core';
import type { HashPolicy, ImportFailure } from './import-run.entity.js';

// What an import run takes, reports while it runs, and returns.

export interface ImportOptions {
  /** Library roots or folders inside them; all configured roots when empty. */
  paths?: string[];
  dryRun?: boolean;
  forceResync?: boolean;
  hash?: HashPolicy;
  /** Globs relative to each root that this run skips, on top of `LORA_IGNORE` (picomatch, `dot: true`). */
  ignore?: string[];
  /**
   * Read headers and sidecars with synchronous calls when reading on the main thread: much faster for many
   * small reads, but it blocks the event loop between yields, so only one-shot processes (the CLI) use it; a
   * server keeps async reads. Reads in import worker threads are always synchronous.
   */
  syncIo?: boolean;
  /** Worker threads that read files (default `IMPORT_WORKERS`); 0 reads on the main thread. */
  workers?: number;
}

export enum ImportPhase {
  Scanning = 'scanning',
  Reading = 'reading',
  Finishing = 'finishing',
}

export interface ImportProgress {
  phase: ImportPhase;
  counts: ImportCounts;
  processed: number;
  total: number | null;
  currentPath?: string;
}

export enum ImportChange {
  Added = 'added',
  Updated = 'updated',
  Moved = 'moved',
  Missing = 'missing',
  Restored = 'restored',
}

export interface ImportReport {
  counts: ImportCounts;
  failures: ImportFailure[];
  failureCount: number;
  /** What changed (or would change, in a dry run), capped at 1,000. */
  changes: { path: string; change: ImportChange; from?: string }[];
  dryRun: boolean;
  durationMs: number;
  /** Worker threads that read the files (0: read on the main thread). */
  workerThreads: number;
}

export const emptyCounts = (): ImportCounts => ({
  seen: 0,
  added: 0,
  updated: 0,
  unchanged: 0,
  moved: 0,
  missing: 0,
  restored: 0,
  failed: 0,
  hashed: 0,
});
