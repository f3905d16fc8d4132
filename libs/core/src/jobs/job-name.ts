import { Role } from '../config/app-config.js';

/**
 * Every background job: its name, its payload type and its run options, declared once. Producers call
 * `JobQueue.enqueue(JobName.X, payload)`; nobody names a queue with a string.
 */
export enum JobName {
  /** Runs a few timed steps and reports progress: proves the job pipeline end to end (ops and tests). */
  Diagnostic = 'diagnostic',
  /** Runs one queued SD.Next generation (the row in `generation_jobs` holds the request and the outcome). */
  Generation = 'generation',
  /** Runs one import run (the row in `import_runs` holds its options, counts and failures). */
  Import = 'import',
  /** Runs one delivery (the row in `delivery_jobs` holds the prompt, the backend's params and the outcome). */
  Delivery = 'delivery',
  /** Hashes every present file whose hash was never computed (the row in `hash_runs` holds its counts). */
  Hash = 'hash',
  /** Looks many adapters up on Civitai by hash (its result holds the counts; progress on the queue job). */
  CivitaiLookup = 'civitai-lookup',
  /** One Civitai run: a bulk lookup or an update check (the row in `civitai_runs` holds its targets and counts). */
  CivitaiRun = 'civitai-run',
  /** Downloads one Civitai model version into a library root (the row in `civitai_downloads` holds its state). */
  CivitaiDownload = 'civitai-download',
  /** Stores a linked adapter's Civitai example images for offline viewing (its result holds the counts). */
  CivitaiExamples = 'civitai-examples',
  /** Rebuilds the recommendation index and bumps its stored version (`recommendation_index_state`). */
  RecommendationsRebuild = 'recommendations.rebuild',
}

export interface ImportPayload {
  runId: string;
  /** Library roots or folders inside them; all roots when empty. */
  paths: string[];
}

export interface DiagnosticPayload {
  steps: number;
  stepMs: number;
  /** Fail on this step (1-based) on every attempt up to `failAttempts`. */
  failAtStep?: number;
  failAttempts?: number;
  label?: string;
}

export interface GenerationPayload {
  /** Id of the `generation_jobs` row; the queue job has the same id. */
  jobId: string;
}

export interface DeliveryPayload {
  /** Id of the `delivery_jobs` row; the queue job has the same id. */
  jobId: string;
}

export interface HashPayload {
  /** Id of the `hash_runs` row; the queue job has the same id. */
  jobId: string;
}

export interface CivitaiLookupPayload {
  /** These adapters; every adapter not matched yet (and not asked within CIVITAI_RECHECK_DAYS) when absent. */
  adapterIds?: string[];
}

export interface CivitaiRunPayload {
  /** Id of the `civitai_runs` row; the queue job has the same id. */
  jobId: string;
}

export interface CivitaiDownloadPayload {
  /** Id of the `civitai_downloads` row; the queue job has the same id. */
  jobId: string;
}

export interface CivitaiExamplesPayload {
  adapterId: string;
}
/** Nothing to say: a rebuild reads every present adapter. */
export type RecommendationsRebuildPayload = Record<string, never>;

export interface JobPayloads {
  [JobName.Diagnostic]: DiagnosticPayload;
  [JobName.Import]: ImportPayload;
  [JobName.Generation]: GenerationPayload;
  [JobName.Delivery]: DeliveryPayload;
  [JobName.Hash]: HashPayload;
  [JobName.CivitaiLookup]: CivitaiLookupPayload;
  [JobName.CivitaiRun]: CivitaiRunPayload;
  [JobName.CivitaiDownload]: CivitaiDownloadPayload;
  [JobName.CivitaiExamples]: CivitaiExamplesPayload;
  [JobName.RecommendationsRebuild]: RecommendationsRebuildPayload;
}

export enum JobStatus {
  Queued = 'queued',
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
  Cancelled = 'cancelled',
}

export interface JobRunOptions {
  /** Total tries, the first included. */
  attempts: number;
  /** First retry delay; doubles on each further retry. */
  backoffMs: number;
  /** Jobs of this name run at once in one process. */
  concurrency: number;
  /** Jobs of this name run at once across all workers (scale-out mode). */
  globalConcurrency?: number;
}

export const JOB_RUN_OPTIONS: Record<JobName, JobRunOptions> = {
  [JobName.Diagnostic]: { attempts: 3, backoffMs: 200, concurrency: 4 },
  // One import at a time across every process: two runs over the same roots would race.
  [JobName.Import]: { attempts: 2, backoffMs: 5000, concurrency: 1, globalConcurrency: 1 },
  // Retried only when SD.Next surely never got the request (connection refused): a retry must never generate twice.
  // Jobs beyond the free backends wait for a backend lease inside their slot, so allow more than the backends.
  [JobName.Generation]: { attempts: 3, backoffMs: 250, concurrency: 8 },
  // Retried on 5xx, connection errors and timeouts of HTTP deliveries (same Idempotency-Key): 0.5 s, 1 s, 2 s.
  [JobName.Delivery]: { attempts: 4, backoffMs: 500, concurrency: 4 },
  // One hash run at a time across every process; a retry resumes where the last attempt stopped (files it hashed
  // are written as it goes).
  [JobName.Hash]: { attempts: 3, backoffMs: 5000, concurrency: 1, globalConcurrency: 1 },
  // One at a time: the rate limit is per process, and two runs would ask about the same files.
  [JobName.CivitaiLookup]: { attempts: 2, backoffMs: 5000, concurrency: 1, globalConcurrency: 1 },
  // One run at a time across every process; a retry resumes after the adapters already done (saved as it goes).
  [JobName.CivitaiRun]: { attempts: 2, backoffMs: 2000, concurrency: 1, globalConcurrency: 1 },
  // A retry (or the job taken up after a restart) resumes from the partial file with a Range request.
  [JobName.CivitaiDownload]: { attempts: 3, backoffMs: 1000, concurrency: 2 },
  [JobName.CivitaiExamples]: { attempts: 2, backoffMs: 2000, concurrency: 1 },
  // Two rebuilds at once would only do the same work twice.
  [JobName.RecommendationsRebuild]: { attempts: 2, backoffMs: 2000, concurrency: 1, globalConcurrency: 1 },
};

/** The least role that may start a job of this name, and so cancel one; a delivery's backend may need more (CLI: admin). */
export const JOB_START_ROLE: Record<JobName, Role> = {
  [JobName.Diagnostic]: Role.Admin,
  [JobName.Generation]: Role.Editor,
  [JobName.Import]: Role.Admin,
  [JobName.Delivery]: Role.Editor,
  [JobName.Hash]: Role.Admin,
  [JobName.CivitaiLookup]: Role.Editor,
  [JobName.CivitaiRun]: Role.Editor,
  [JobName.CivitaiDownload]: Role.Admin,
  [JobName.CivitaiExamples]: Role.Editor,
  [JobName.RecommendationsRebuild]: Role.Editor,
};

export const ALL_JOB_NAMES: readonly JobName[] = Object.values(JobName);

export function isJobName(value: string): value is JobName {
  return (ALL_JOB_NAMES as readonly string[]).includes(value);
}
