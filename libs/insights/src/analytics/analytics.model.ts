/** Width of one time-series bucket; buckets start on UTC hours or days. */
export enum StatsBucket {
  Hour = 'hour',
  Day = 'day',
}

export const ANALYTICS_LIMITS = {
  /** Longest range of an hourly series (buckets sent at most: 24 × 93). */
  maxHourlyDays: 93,
  /** Longest range of any series. */
  maxDays: 3660,
  maxTop: 100,
} as const;

export interface StatsRange {
  from: Date;
  to: Date;
}

export interface GenerationStatsQuery extends StatsRange {
  bucket: StatsBucket;
  backendId?: string;
}

/** Generations created in one bucket on one backend. Durations are of succeeded runs (start to finish). */
export interface GenerationCounts {
  /** Null for jobs that never reached a backend (cancelled or failed while queued). */
  backendId: string | null;
  count: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  meanMs: number | null;
  /** Nearest-rank 95th percentile, rounded to two significant digits (the roll-up's duration bins). */
  p95Ms: number | null;
}

export interface GenerationBucketCounts extends GenerationCounts {
  start: Date;
}

export interface GenerationStats {
  from: Date;
  to: Date;
  bucket: StatsBucket;
  series: GenerationBucketCounts[];
  /** The whole range, per backend. */
  totals: GenerationCounts[];
}

export interface AdapterUsage {
  adapterId: string;
  /** Null when the adapter record was deleted since. */
  name: string | null;
  baseModel: string | null;
  /** Images generated with it. */
  images: number;
}

export interface AdapterPairUsage {
  /** The two adapters, by id order. */
  adapters: AdapterUsageRef[];
  images: number;
}

export interface AdapterUsageRef {
  adapterId: string;
  name: string | null;
}

export interface AdapterUsageStats {
  from: Date;
  to: Date;
  adapters: AdapterUsage[];
  /** Adapters used together in one image, most frequent first. */
  pairs: AdapterPairUsage[];
}

export enum FailureSource {
  Generation = 'generation',
  Delivery = 'delivery',
}

export interface FailureReason {
  source: FailureSource;
  /** The error with numbers, ids and hashes folded (`#`), so one cause is one row. */
  reason: string;
  count: number;
  /** One real message of the group. */
  example: string;
  lastAt: Date;
}

export interface DeliveryOutcome {
  mode: string;
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Queued or running. */
  pending: number;
}

export interface CountBy<K> {
  key: K;
  count: number;
}

export interface RecentImport {
  id: string;
  status: string;
  createdAt: Date;
  finishedAt: Date | null;
  added: number;
  updated: number;
  missing: number;
  failed: number;
}

export interface LibrarySummary {
  totals: {
    /** Present adapters (files on disk). */
    files: number;
    bytesOnDisk: number;
    /** Present adapters whose SHA-256 was computed from the file, in % (0 with an empty library). */
    hashedPercent: number;
    civitaiLinkedPercent: number;
    withPreviews: number;
    withWarnings: number;
    /** Records whose file is gone. */
    tombstoned: number;
  };
  byBaseModel: CountBy<string>[];
  byType: CountBy<string>[];
  /** By the highest Civitai NSFW level (0 none, 1 PG, 2 PG-13, 4 R, 8 X, 16 XXX, 32 blocked). */
  byNsfwLevel: CountBy<number>[];
  recentImports: RecentImport[];
}
