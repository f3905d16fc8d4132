/**
 * The typed map of every event pushed to clients over Socket.IO (namespace `/progress`). The gateway, the job
 * runners and the tests share it. Every payload carries `jobId`; the gateway sends it to the room `job:<jobId>`
 * and to the topic room of its prefix.
 */
export interface JobProgressPayload {
  jobId: string;
  name: string;
  /** 0..1 */
  progress: number;
  message?: string;
}

export interface JobCompletedPayload {
  jobId: string;
  name: string;
  result?: unknown;
}

export interface JobFailedPayload {
  jobId: string;
  name: string;
  error: string;
  /** True when the job will be retried. */
  willRetry: boolean;
}

export interface GenerationProgressPayload {
  jobId: string;
  backendId: string;
  progress: number;
  step: number;
  steps: number;
  etaSeconds: number | null;
  /** When the runner sent it (ISO 8601): lets clients and the benchmark see delivery latency. */
  emittedAt: string;
}

export interface GenerationCompletedPayload {
  jobId: string;
  backendId: string;
  images: { index: number; url: string; contentType: string }[];
  seed: number | null;
}

export interface GenerationEndedPayload {
  jobId: string;
  backendId: string | null;
  reason: string;
}

export interface DeliveryUpdatedPayload {
  jobId: string;
  status: string;
  error?: string | null;
}

/**
 * What an import run did with the files it found: `seen` = `added + updated + unchanged + moved + restored +
 * failed`. `updated` counts files whose facts changed; `missing` counts rows whose file is gone (not seen);
 * `hashed` counts files whose hashes this run computed, whatever else happened to them.
 */
export interface ImportCounts {
  seen: number;
  added: number;
  updated: number;
  unchanged: number;
  moved: number;
  missing: number;
  restored: number;
  failed: number;
  hashed: number;
}

export interface ImportProgressPayload {
  jobId: string;
  counts: ImportCounts;
  /** Files processed so far and the total when known. */
  processed: number;
  total: number | null;
  currentPath?: string;
}

export interface ImportCompletedPayload {
  jobId: string;
  status: string;
  counts: ImportCounts;
}

/** What a hash run did: `total` files to hash when it started, of which `hashed` were, `failed` could not be. */
export interface HashRunCounts {
  total: number;
  hashed: number;
  failed: number;
  /** Files whose sidecars claimed another SHA-256 than the file's (the file wins; the adapter carries a warning). */
  mismatched: number;
  /** Files skipped because they changed or vanished since they were listed (the next import reads them). */
  skipped: number;
  /** Bytes read. */
  bytes: number;
}

export interface HashProgressPayload {
  jobId: string;
  counts: HashRunCounts;
  /** The file being hashed, relative to its library root. */
  currentPath?: string;
}

export interface HashCompletedPayload {
  jobId: string;
  status: string;
  counts: HashRunCounts;
  error?: string | null;
}

/**
 * What a Civitai run did: `done` of `total` adapters, `found`/`notFound` by a lookup, `withUpdates` adapters an update
 * check found newer versions for, `failed` adapters that could not be done (listed in the run's failures).
 */
export interface CivitaiRunCounts {
  total: number;
  done: number;
  found: number;
  notFound: number;
  withUpdates: number;
  failed: number;
}

export interface CivitaiProgressPayload {
  jobId: string;
  kind: string;
  counts: CivitaiRunCounts;
}

export interface CivitaiCompletedPayload {
  jobId: string;
  kind: string;
  status: string;
  counts: CivitaiRunCounts;
  error?: string | null;
}

/** A generated image was recorded as a result (`jobId` is the generation that made it). */
export interface ResultCreatedPayload {
  jobId: string;
  resultId: string;
  imageIndex: number;
  backendId: string;
  contentType: string;
  url: string;
}

export interface ResultDeletedPayload {
  jobId: string;
  resultId: string;
}

/** A Civitai download's bytes: `bytesDone` of `bytesTotal` (null until the file host says). */
export interface DownloadProgressPayload {
  jobId: string;
  bytesDone: number;
  bytesTotal: number | null;
}

export interface DownloadCompletedPayload {
  jobId: string;
  /** `completed`, `failed` or `cancelled`. */
  status: string;
  bytesDone: number;
  adapterId?: string | null;
  error?: string | null;
}

/** A recommendation index rebuild read `done` of `total` adapters. */
export interface RecommendationsProgressPayload {
  jobId: string;
  done: number;
  total: number;
}

/** A rebuild finished: every process whose index is older than `version` rebuilds before its next answer. */
export interface RecommendationsCompletedPayload {
  jobId: string;
  version: number;
  documents: number;
  terms: number;
  buildMs: number;
}

export interface ProgressEventMap {
  'job.progress': JobProgressPayload;
  'job.completed': JobCompletedPayload;
  'job.failed': JobFailedPayload;
  'job.cancelled': JobCompletedPayload;
  'generation.progress': GenerationProgressPayload;
  'generation.completed': GenerationCompletedPayload;
  'generation.failed': GenerationEndedPayload;
  'generation.cancelled': GenerationEndedPayload;
  'delivery.updated': DeliveryUpdatedPayload;
  'import.progress': ImportProgressPayload;
  'import.completed': ImportCompletedPayload;
  'hash.progress': HashProgressPayload;
  'hash.completed': HashCompletedPayload;
  'civitai.progress': CivitaiProgressPayload;
  'civitai.completed': CivitaiCompletedPayload;
  'result.created': ResultCreatedPayload;
  'result.deleted': ResultDeletedPayload;
  'download.progress': DownloadProgressPayload;
  'download.completed': DownloadCompletedPayload;
  'recommendations.progress': RecommendationsProgressPayload;
  'recommendations.completed': RecommendationsCompletedPayload;
}

export type ProgressEventName = keyof ProgressEventMap;

export type ProgressMessage = {
  [E in ProgressEventName]: { event: E; payload: ProgressEventMap[E] };
}[ProgressEventName];

/** Topic rooms a client may subscribe to, besides single jobs. */
export enum ProgressTopic {
  Jobs = 'jobs',
  Imports = 'imports',
  Generations = 'generations',
  Deliveries = 'deliveries',
  Hashes = 'hashes',
  Civitai = 'civitai',
  Results = 'results',
  Downloads = 'downloads',
  Recommendations = 'recommendations',
}

const topicByPrefix: Record<string, ProgressTopic> = {
  job: ProgressTopic.Jobs,
  import: ProgressTopic.Imports,
  generation: ProgressTopic.Generations,
  delivery: ProgressTopic.Deliveries,
  hash: ProgressTopic.Hashes,
  civitai: ProgressTopic.Civitai,
  result: ProgressTopic.Results,
  download: ProgressTopic.Downloads,
  recommendations: ProgressTopic.Recommendations,
};

export function topicOf(event: ProgressEventName): ProgressTopic {
  return topicByPrefix[event.slice(0, event.indexOf('.'))];
}

export const PROGRESS_EVENT_NAMES: readonly ProgressEventName[] = [
  'job.progress',
  'job.completed',
  'job.failed',
  'job.cancelled',
  'generation.progress',
  'generation.completed',
  'generation.failed',
  'generation.cancelled',
  'delivery.updated',
  'import.progress',
  'import.completed',
  'hash.progress',
  'hash.completed',
  'civitai.progress',
  'civitai.completed',
  'result.created',
  'result.deleted',
  'download.progress',
  'download.completed',
  'recommendations.progress',
  'recommendations.completed',
];

export function isProgressMessage(value: unknown): value is ProgressMessage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { event?: unknown; payload?: unknown };
  return (
    typeof v.event === 'string' &&
    (PROGRESS_EVENT_NAMES as readonly string[]).includes(v.event) &&
    typeof v.payload === 'object' &&
    v.payload !== null
  );
}
