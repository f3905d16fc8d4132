import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/** Roles in increasing power; a route needs a role at least as strong as the one it declares. */
export enum Role {
  Viewer = 'viewer',
  Editor = 'editor',
  Admin = 'admin',
}

export enum DatabaseType {
  Sqlite = 'sqlite',
  Postgres = 'postgres',
}

export enum LogFormat {
  Pretty = 'pretty',
  Json = 'json',
}

export interface ApiKey {
  key: string;
  role: Role;
}

export interface SdNextBackendConfig {
  /** Stable id, used in job rows and queue names: `sdnext-0`, `sdnext-1`, … in the order given. */
  id: string;
  url: string;
}

export interface AppConfig {
  port: number;
  host: string;
  /** True when HOST was not given and no API keys exist: the API binds to loopback only. */
  loopbackOnly: boolean;
  /** ALLOW_OPEN_NETWORK: the operator means to serve the API without keys on a non-loopback interface. */
  allowOpenNetwork: boolean;
  /** Absolute; by default `data/` in the installation, whatever the current directory. */
  dataDir: string;
  database: { type: DatabaseType.Sqlite; path: string } | { type: DatabaseType.Postgres; url: string; schema?: string };
  redis: { url: string; prefix: string } | null;
  loraRoots: string[];
  /** Globs of files and folders every import skips, relative to each library root (LORA_IGNORE). */
  loraIgnore: string[];
  /** Worker threads an import reads files with (IMPORT_WORKERS; default: one per CPU beside the main thread, 1–4; 0 = none). */
  importWorkers: number;
  /** SQLite: list, count and facet results kept until the next write; PostgreSQL: 50 list-page rows an entry, by row version (QUERY_CACHE_ENTRIES, default 256; 0 = off). */
  queryCacheEntries: number;
  /** Largest image a recipe upload takes (RECIPE_IMAGE_MAX_MB, default 32), refused with a 413 above it. */
  recipeImageMaxBytes: number;
  /** The Civitai client (nothing contacts Civitai unless a user asks). */
  civitai: {
    /** Base URL (CIVITAI_URL, default https://civitai.com), without a trailing slash. */
    url: string;
    /** CIVITAI_API_KEY: sent as a Bearer token; never logged or returned. */
    apiKey: string | null;
    /** Token bucket: requests per second (CIVITAI_RATE_PER_SECOND, default 2) and burst (CIVITAI_RATE_BURST, default 4). */
    ratePerSecond: number;
    burst: number;
    /** One request's time limit (CIVITAI_TIMEOUT_SECONDS, default 20). */
    timeoutMs: number;
    /** Tries of one request on 5xx, connection errors and timeouts, the first included (CIVITAI_RETRIES, default 3). */
    attempts: number;
    /** Longest `Retry-After` honoured before a 429 fails the call (CIVITAI_MAX_RETRY_AFTER_SECONDS, default 60). */
    maxRetryAfterMs: number;
    /** Largest JSON answer read (CIVITAI_MAX_RESPONSE_MB, default 8). */
    maxResponseBytes: number;
    /** How long an answer is reused from the cache (CIVITAI_CACHE_HOURS, default 24; 0 = no cache). */
    cacheMs: number;
    /** A file Civitai did not know is not asked about again by bulk lookups for this long (CIVITAI_RECHECK_DAYS, default 30). */
    recheckMs: number;
    /** Look up new unmatched files after each hash run (CIVITAI_AUTO_LOOKUP, default false). */
    autoLookup: boolean;
    /** Write `X.civitai.info` and `X.preview.<ext>` beside a file after a lookup or link finds it (CIVITAI_WRITE_SIDECARS, default false). */
    writeSidecars: boolean;
    /** Check linked adapters for newer versions this often (CIVITAI_UPDATE_CHECK_HOURS; null = never by itself). */
    updateCheckMs: number | null;
  };
  /** Civitai downloads and example images. */
  civitaiDownload: {
    /**
     * Hosts a download may be redirected to (CIVITAI_DOWNLOAD_HOSTS, comma-separated; `*.example.com` matches its
     * subdomains). The host of CIVITAI_URL is always allowed.
     */
    hosts: string[];
    /** Free space left on the target file system after the download, at least (CIVITAI_DOWNLOAD_MIN_FREE_MB, default 512). */
    minFreeBytes: number;
    /** A file host that sends nothing for this long fails the attempt (CIVITAI_DOWNLOAD_STALL_SECONDS, default 60). */
    stallMs: number;
    /** Example images stored per adapter, at most (CIVITAI_EXAMPLE_IMAGES_MAX, default 20). */
    maxExampleImages: number;
  };
  /** The background hash job (`hash_runs`). */
  hashJob: {
    /** Read rate cap in bytes per second (HASH_JOB_MAX_MBPS; default 0 = no cap). */
    maxBytesPerSecond: number | null;
    /** Start a hash run after each import that left files unhashed (HASH_AFTER_IMPORT, default true). */
    afterImport: boolean;
  };
  sdnext: {
    backends: SdNextBackendConfig[];
    auth: { user: string; password: string } | null;
    /** Longest wait for one txt2img answer before the generation fails (SDNEXT_TIMEOUT_SECONDS, default 900). */
    timeoutMs: number;
    /** Largest SD.Next answer, as sent and decompressed (SDNEXT_MAX_RESPONSE_MB, default 256). */
    maxResponseBytes: number;
  };
  apiKeys: ApiKey[];
  /** Browser sessions (`POST /api/v1/session`): a signed cookie that stands for an API key's role. */
  session: {
    /** HMAC key of session tokens (SESSION_SECRET); null: a random one per process, so sessions end on restart. */
    secret: string | null;
    /** Lifetime of a session (SESSION_TTL_HOURS, default 12). */
    ttlMs: number;
  };
  /** Express's `trust proxy` (TRUST_PROXY): whose X-Forwarded-Proto/-Host to believe; false believes nobody. */
  trustProxy: boolean | number | string[];
  /** Socket.IO limits (`/progress`). */
  socket: {
    /** Job ids one connection may subscribe to (SOCKET_MAX_JOB_SUBSCRIPTIONS, default 100). */
    maxJobSubscriptions: number;
    /** Connections open at once per API key, sessions included (SOCKET_MAX_CONNECTIONS_PER_KEY, default 20). */
    maxConnectionsPerKey: number;
  };
  delivery: { httpAllow: string[]; cliCommands: string[] };
  log: { level: string; format: LogFormat };
  workerPort: number;
  storageDir: string;
  /** Where product files live: DATA_DIR/storage (STORAGE_URL unset) or an S3-compatible bucket (STORAGE_URL=s3://bucket/prefix). */
  storage: StorageConfig;
  /** How long a generation keeps retrying to store its images while the storage is unavailable (STORAGE_WRITE_RETRY_SECONDS, default 120). */
  storageWriteRetryMs: number;
  /**
   * Local storage: writes that would leave less than this free on its disk are refused with `storage_full` (503)
   * before the disk fills up, so the database and the logs on the same disk keep room (STORAGE_MIN_FREE_MB, default 64).
   */
  storageMinFreeBytes: number;
  /** Thumbnails (sharp): limits on what is decoded and how many at once. */
  thumbnails: {
    /** THUMBNAIL_MAX_SOURCE_MB (default 32): larger source images answer 422 without being decoded. */
    maxSourceBytes: number;
    /** THUMBNAIL_MAX_PIXELS (default 100,000,000): width × height a source may declare (decompression bombs). */
    maxPixels: number;
    /** THUMBNAIL_CONCURRENCY (default 2): thumbnails made at once per process; more wait. */
    concurrency: number;
  };
  /** The folder watcher (LORA_WATCH…): file-system events on every library root, debounced into imports. */
  watch: {
    enabled: boolean;
    /** LORA_WATCH_POLL_SECONDS: poll folders at this interval instead of waiting for events (network shares); null = events. */
    pollMs: number | null;
    /** LORA_WATCH_DEBOUNCE_SECONDS (default 2): quiet time after the last change before the touched folders are imported. */
    debounceMs: number;
    /** LORA_WATCH_SETTLE_SECONDS (default 2): a changed file must keep its size and mtime this long to be imported. */
    settleMs: number;
  };
  /** IMPORT_ON_START: an incremental import of every root when the process starts (the API embedded, one worker scaled out). */
  importOnStart: boolean;
  /** Archive import limits: an archive over any of them is refused before anything is written. */
  archive: {
    /** ARCHIVE_MAX_ENTRIES (default 1,000,000): entries one archive may hold. */
    maxEntries: number;
    /** ARCHIVE_MAX_GB (default 512): total uncompressed bytes one archive may declare. */
    maxUncompressedBytes: number;
    /** ARCHIVE_MAX_RATIO (default 200): uncompressed/compressed ratio of one entry over 1 MiB (zip bombs). */
    maxRatio: number;
  };
  /** Scheduled backups: every BACKUP_EVERY_HOURS (0 = off, default), keeping the newest BACKUP_KEEP (default 7). */
  backup: { everyMs: number | null; keep: number };
  /** Results retention (RESULTS_…): what a retention run removes; favorites and rated ≥ keepRating never. */
  resultsRetention: {
    /** RESULTS_MAX_AGE_DAYS: results older than this are removed; null (0) = no age limit. */
    maxAgeMs: number | null;
    /** RESULTS_MAX_TOTAL_MB: the oldest results are removed until all results fit; null (0) = no size limit. */
    maxTotalBytes: number | null;
    /** RESULTS_KEEP_RATING (1–5, default 1): results rated at least this are never removed. */
    keepRating: number;
    /** RESULTS_RETENTION_HOURS (default 24): one process in the deployment runs the policy this often; null (0) = never. */
    intervalMs: number | null;
    /** RESULTS_ORPHAN_GRACE_HOURS (default 24): `storage check --repair` deletes orphaned files older than this only. */
    orphanGraceMs: number;
  };
  /** Scale-out mode's job reconciler (see `JobReconciler`). */
  jobs: {
    /** A row `queued` for longer than this is re-enqueued with its own job id (JOB_REQUEUE_AFTER_SECONDS, default 60). */
    requeueAfterMs: number;
    /** How often the reconciler runs (JOB_RECONCILE_INTERVAL_SECONDS, default 30). */
    reconcileIntervalMs: number;
  };
}

export type StorageConfig =
  | { kind: 'local'; dir: string }
  | {
      kind: 's3';
      bucket: string;
      /** Key prefix without leading or trailing slash ('' = the bucket's root). */
      prefix: string;
      /** S3_ENDPOINT: an S3-compatible server (MinIO, …); null = AWS. */
      endpoint: string | null;
      /** S3_REGION, else AWS_REGION, else us-east-1. */
      region: string;
      /** S3_FORCE_PATH_STYLE: bucket in the path instead of the host name (MinIO needs it). */
      forcePathStyle: boolean;
      /** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); null = the SDK's default chain. */
      credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | null;
      /** S3_TIMEOUT_SECONDS (default 30): one request's limit before the storage counts as unavailable. */
      timeoutMs: number;
    };

const csv = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/**
 * A comma-separated list of globs: commas inside braces (`**\/{old,tmp}/**`) belong to the glob.
 */
export function globList(value: string | undefined): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of value ?? '') {
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
      continue;
    }
    if (ch === '{') depth++;
    else if (ch === '}' && depth > 0) depth--;
    current += ch;
  }
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Wildcards one path segment of an ignore glob may hold: each more multiplies the matching work by the name length. */
export const MAX_GLOB_SEGMENT_WILDCARDS = 2;
/** Wildcards (`*`, or a `**` segment) a whole ignore glob may hold: segments' backtracking multiplies too. */
export const MAX_GLOB_WILDCARDS = 3;

/**
 * Why an ignore glob cannot work or would be too slow, or null. Globs match paths relative to a root, so they are
 * never absolute; picomatch turns each `*` into a lazy loop, and a glob such as `*a*a*a*a*b` backtracks for
 * a minute on one 100-character name, so wildcards are counted.
 */
export function ignoreGlobProblem(glob: string): string | null {
  if (glob.trim() === '') return 'must not be empty';
  if (glob.length > 1000) return 'must be at most 1000 characters';
  if (glob.startsWith('/') || /^[A-Za-z]:[\\/]/.test(glob)) return 'must be relative to the library root, not absolute';
  const segments = glob.split('/');
  if (segments.includes('..')) return 'must not contain ".." (paths are matched inside the root)';
  if (/[*+]\(/.test(glob)) return 'must not use the repeating extglobs *(…) or +(…)';
  let total = 0;
  for (const segment of segments) {
    const wildcards = segment === '**' ? 1 : wildcardsIn(segment);
    if (wildcards > MAX_GLOB_SEGMENT_WILDCARDS) {
      return `must have at most ${MAX_GLOB_SEGMENT_WILDCARDS} wildcards (*) in one path segment ("${segment}" has ${wildcards})`;
    }
    total += wildcards;
  }
  if (total > MAX_GLOB_WILDCARDS)
    return `must have at most ${MAX_GLOB_WILDCARDS} wildcards (* or **) in all (it has ${total})`;
  return null;
}

/** `*` characters of a segment that are not escaped with a backslash. */
function wildcardsIn(segment: string): number {
  let count = 0;
  for (let i = 0; i < segment.length; i++) {
    if (segment[i] === '\\') i++;
    else if (segment[i] === '*') count++;
  }
  return count;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** TRUST_PROXY as Express's `trust proxy` takes it, or null when it is not a value Express understands. */
export function trustProxyOf(value: string | undefined): boolean | number | string[] | null {
  const v = (value ?? '').trim();
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  const entries = csv(v);
  const address = /^[0-9a-fA-F:.]+(\/\d{1,3})?$/;
  return entries.length > 0 && entries.every((e) => PROXY_NAMES.has(e) || address.test(e)) ? entries : null;
}

const port = z.coerce.number().int().min(0).max(65535);

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** The product's own package.json in `dir`, or null (none there, another package's, unreadable). */
function productManifest(dir: string): { version?: string } | null {
  try {
    const manifest = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')) as {
      name?: unknown;
      version?: string;
    };
    return manifest.name === 'lora-manager' ? manifest : null;
  } catch {
    return null;
  }
}

/**
 * The folder holding the product's package.json (the repository, or an installed copy of `dist/`'s parent). Other
 * package.json files on the way up are passed over: each app's bundle folder has one of its own (it says CommonJS).
 */
export function installationRoot(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (productManifest(dir)) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

let version: string | undefined;

/** The product's version, from its package.json (see `installationRoot`); `unknown` when there is none to read. */
export function productVersion(): string {
  return (version ??= productManifest(installationRoot())?.version ?? 'unknown');
}

/** DATA_DIR when it is not set: `data/` in the installation, so that a CLI run from another folder finds the same database. */
export const defaultDataDir = (): string => resolve(installationRoot(), 'data');

const roles = new Set<string>(Object.values(Role));

/** The environment schema: every variable the product reads, with its default. */
const envSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).optional(),
  WORKER_PORT: port.default(3001),
  DATA_DIR: z.string().min(1).optional(),
  ALLOW_OPEN_NETWORK: bool.default(false),
  DATABASE_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^(sqlite:|postgres(ql)?:\/\/)/.test(v), {
      message: 'must start with sqlite: or postgres://',
    }),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier')
    .optional(),
  REDIS_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^rediss?:\/\//.test(v), { message: 'must start with redis://' }),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only')
    .default('lora'),
  LORA_ROOTS: z.string().optional(),
  LORA_IGNORE: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      for (const glob of globList(v)) {
        const problem = ignoreGlobProblem(glob);
        if (problem) ctx.addIssue({ code: 'custom', message: `"${glob}" ${problem}` });
      }
    }),
  IMPORT_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  QUERY_CACHE_ENTRIES: z.coerce.number().int().min(0).max(100_000).default(256),
  CIVITAI_URL: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s):// URL')
    .default('https://civitai.com'),
  CIVITAI_API_KEY: z.string().min(1).max(512).optional(),
  CIVITAI_RATE_PER_SECOND: z.coerce.number().positive().max(1000).default(2),
  CIVITAI_RATE_BURST: z.coerce.number().int().min(1).max(1000).default(4),
  CIVITAI_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(20),
  CIVITAI_RETRIES: z.coerce.number().int().min(1).max(10).default(3),
  CIVITAI_MAX_RETRY_AFTER_SECONDS: z.coerce.number().min(0).max(3600).default(60),
  CIVITAI_MAX_RESPONSE_MB: z.coerce.number().positive().max(256).default(8),
  CIVITAI_CACHE_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 365)
    .default(24),
  CIVITAI_RECHECK_DAYS: z.coerce.number().min(0).max(3650).default(30),
  CIVITAI_AUTO_LOOKUP: bool.default(false),
  CIVITAI_WRITE_SIDECARS: bool.default(false),
  CIVITAI_UPDATE_CHECK_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 365)
    .default(0),
  HASH_JOB_MAX_MBPS: z.coerce.number().min(0).max(100_000).default(0),
  HASH_AFTER_IMPORT: bool.default(true),
  CIVITAI_DOWNLOAD_HOSTS: z
    .string()
    .default(
      'civitai.com,*.civitai.com,civitai.red,*.civitai.red,civitai-delivery-worker-prod.5ac0637cfd0766c97916cefa3764fbdf.r2.cloudflarestorage.com',
    ),
  CIVITAI_DOWNLOAD_MIN_FREE_MB: z.coerce.number().min(0).max(10_000_000).default(512),
  CIVITAI_DOWNLOAD_STALL_SECONDS: z.coerce.number().positive().max(3600).default(60),
  CIVITAI_EXAMPLE_IMAGES_MAX: z.coerce.number().int().min(1).max(200).default(20),
  LORA_WATCH: bool.default(false),
  LORA_WATCH_POLL_SECONDS: z.coerce.number().min(0).max(86_400).default(0),
  LORA_WATCH_DEBOUNCE_SECONDS: z.coerce.number().min(0.05).max(3_600).default(2),
  LORA_WATCH_SETTLE_SECONDS: z.coerce.number().min(0.05).max(3_600).default(2),
  IMPORT_ON_START: bool.default(false),
  ARCHIVE_MAX_ENTRIES: z.coerce.number().int().min(10).max(100_000_000).default(1_000_000),
  ARCHIVE_MAX_GB: z.coerce.number().positive().max(1_000_000).default(512),
  ARCHIVE_MAX_RATIO: z.coerce.number().min(2).max(100_000).default(200),
  BACKUP_EVERY_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 365)
    .default(0),
  BACKUP_KEEP: z.coerce.number().int().min(1).max(10_000).default(7),
  SDNEXT_URL: z
    .string()
    .optional()
    .refine((v) => csv(v).every((u) => /^https?:\/\/[^\s]+$/.test(u)), {
      message: 'must be a comma-separated list of http(s):// URLs',
    }),
  SDNEXT_AUTH: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^[^:]+:.+$/.test(v), { message: 'must be user:password' }),
  SDNEXT_TIMEOUT_SECONDS: z.coerce.number().positive().max(86_400).default(900),
  SDNEXT_MAX_RESPONSE_MB: z.coerce.number().int().min(1).max(4096).default(256),
  RECIPE_IMAGE_MAX_MB: z.coerce.number().positive().max(512).default(32),
  API_KEYS: z
    .string()
    .optional()
    .refine(
      (v) =>
        csv(v).every((entry) => {
          const i = entry.lastIndexOf(':');
          return i >= 16 && roles.has(entry.slice(i + 1));
        }),
      { message: 'must be key:role,… with keys of 16+ characters and roles viewer|editor|admin' },
    ),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(12),
  TRUST_PROXY: z
    .string()
    .optional()
    .refine((v) => v === undefined || trustProxyOf(v) !== null, {
      message:
        'must be true, false, a number of proxy hops, or comma-separated addresses/subnets (loopback, 10.0.0.0/8)',
    }),
  SOCKET_MAX_JOB_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(100_000).default(100),
  SOCKET_MAX_CONNECTIONS_PER_KEY: z.coerce.number().int().min(1).max(100_000).default(20),
  DELIVERY_HTTP_ALLOW: z
    .string()
    .optional()
    .refine((v) => csv(v).every((u) => /^https?:\/\/[^\s]+$/.test(u)), {
      message: 'must be a comma-separated list of http(s):// URL prefixes',
    }),
  DELIVERY_CLI_COMMANDS: z
    .string()
    .optional()
    .refine((v) => csv(v).every((p) => isAbsolute(p)), { message: 'must be absolute paths of executables' }),
  RESULTS_MAX_AGE_DAYS: z.coerce.number().min(0).max(36_500).default(0),
  RESULTS_MAX_TOTAL_MB: z.coerce.number().min(0).max(1_000_000_000).default(0),
  RESULTS_KEEP_RATING: z.coerce.number().int().min(1).max(5).default(1),
  RESULTS_RETENTION_HOURS: z.coerce.number().min(0).max(8_760).default(24),
  RESULTS_ORPHAN_GRACE_HOURS: z.coerce.number().min(0).max(8_760).default(24),
  JOB_REQUEUE_AFTER_SECONDS: z.coerce.number().positive().max(86_400).default(60),
  JOB_RECONCILE_INTERVAL_SECONDS: z.coerce.number().positive().max(3_600).default(30),
  STORAGE_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(v), {
      message: 'must be s3://bucket or s3://bucket/prefix (bucket: 3-63 lower-case letters, digits, dots, hyphens)',
    }),
  S3_ENDPOINT: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s):// URL')
    .optional(),
  S3_REGION: z.string().min(1).max(64).optional(),
  AWS_REGION: z.string().min(1).max(64).optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  S3_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(30),
  AWS_ACCESS_KEY_ID: z.string().min(1).max(256).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).max(256).optional(),
  AWS_SESSION_TOKEN: z.string().min(1).max(4096).optional(),
  STORAGE_WRITE_RETRY_SECONDS: z.coerce.number().min(0).max(86_400).default(120),
  STORAGE_MIN_FREE_MB: z.coerce.number().int().min(0).max(1_000_000_000).default(64),
  THUMBNAIL_MAX_SOURCE_MB: z.coerce.number().positive().max(1024).default(32),
  THUMBNAIL_MAX_PIXELS: z.coerce.number().int().min(1).max(1_000_000_000).default(100_000_000),
  THUMBNAIL_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum([LogFormat.Pretty, LogFormat.Json]).optional(),
});

export type RawEnv = Record<string, string | undefined>;

/** Thrown at boot when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`Invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses and validates an environment. Pure: give it `process.env` or a test's object. */
export function parseConfig(env: RawEnv): AppConfig {
  const cleaned = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(environment)'),
      message: issue.message,
    }));
    throw new ConfigError(problems);
  }
  const e = result.data;
  if (e.STORAGE_URL && Boolean(e.AWS_ACCESS_KEY_ID) !== Boolean(e.AWS_SECRET_ACCESS_KEY)) {
    throw new ConfigError([
      { variable: 'AWS_SECRET_ACCESS_KEY', message: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together' },
    ]);
  }
  const dataDir = e.DATA_DIR ? resolve(e.DATA_DIR) : defaultDataDir();
  const apiKeys = csv(e.API_KEYS).map((entry) => {
    const i = entry.lastIndexOf(':');
    return { key: entry.slice(0, i), role: entry.slice(i + 1) as Role };
  });
  const dbUrl = e.DATABASE_URL;
  const database: AppConfig['database'] =
    dbUrl && dbUrl.startsWith('postgres')
      ? { type: DatabaseType.Postgres, url: dbUrl, schema: e.DATABASE_SCHEMA }
      : {
          type: DatabaseType.Sqlite,
          path:
            dbUrl && dbUrl.startsWith('sqlite:')
              ? resolve(dbUrl.slice('sqlite:'.length).replace(/^\/\//, ''))
              : resolve(dataDir, 'lora-manager.sqlite'),
        };
  const auth = e.SDNEXT_AUTH
    ? {
        user: e.SDNEXT_AUTH.slice(0, e.SDNEXT_AUTH.indexOf(':')),
        password: e.SDNEXT_AUTH.slice(e.SDNEXT_AUTH.indexOf(':') + 1),
      }
    : null;
  return {
    port: e.PORT,
    host: e.HOST ?? (apiKeys.length === 0 ? '127.0.0.1' : '0.0.0.0'),
    loopbackOnly: !e.HOST && apiKeys.length === 0,
    allowOpenNetwork: e.ALLOW_OPEN_NETWORK,
    dataDir,
    database,
    redis: e.REDIS_URL ? { url: e.REDIS_URL, prefix: e.REDIS_PREFIX } : null,
    loraRoots: csv(e.LORA_ROOTS).map((r) => resolve(r)),
    loraIgnore: globList(e.LORA_IGNORE),
    importWorkers: e.IMPORT_WORKERS ?? Math.max(1, Math.min(4, availableParallelism() - 1)),
    queryCacheEntries: e.QUERY_CACHE_ENTRIES,
    recipeImageMaxBytes: Math.round(e.RECIPE_IMAGE_MAX_MB * 1024 * 1024),
    civitai: {
      url: e.CIVITAI_URL.replace(/\/+$/, ''),
      apiKey: e.CIVITAI_API_KEY ?? null,
      ratePerSecond: e.CIVITAI_RATE_PER_SECOND,
      burst: e.CIVITAI_RATE_BURST,
      timeoutMs: Math.round(e.CIVITAI_TIMEOUT_SECONDS * 1000),
      attempts: e.CIVITAI_RETRIES,
      maxRetryAfterMs: Math.round(e.CIVITAI_MAX_RETRY_AFTER_SECONDS * 1000),
      maxResponseBytes: Math.round(e.CIVITAI_MAX_RESPONSE_MB * 1024 * 1024),
      cacheMs: Math.round(e.CIVITAI_CACHE_HOURS * 3_600_000),
      recheckMs: Math.round(e.CIVITAI_RECHECK_DAYS * 86_400_000),
      autoLookup: e.CIVITAI_AUTO_LOOKUP,
      writeSidecars: e.CIVITAI_WRITE_SIDECARS,
      updateCheckMs: e.CIVITAI_UPDATE_CHECK_HOURS > 0 ? Math.round(e.CIVITAI_UPDATE_CHECK_HOURS * 3_600_000) : null,
    },
    civitaiDownload: {
      hosts: csv(e.CIVITAI_DOWNLOAD_HOSTS).map((h) => h.toLowerCase()),
      minFreeBytes: Math.round(e.CIVITAI_DOWNLOAD_MIN_FREE_MB * 1024 * 1024),
      stallMs: Math.round(e.CIVITAI_DOWNLOAD_STALL_SECONDS * 1000),
      maxExampleImages: e.CIVITAI_EXAMPLE_IMAGES_MAX,
    },
    hashJob: {
      maxBytesPerSecond: e.HASH_JOB_MAX_MBPS > 0 ? Math.round(e.HASH_JOB_MAX_MBPS * 1024 * 1024) : null,
      afterImport: e.HASH_AFTER_IMPORT,
    },
    sdnext: {
      backends: csv(e.SDNEXT_URL).map((url, i) => ({ id: `sdnext-${i}`, url: url.replace(/\/+$/, '') })),
      auth,
      timeoutMs: Math.round(e.SDNEXT_TIMEOUT_SECONDS * 1000),
      maxResponseBytes: e.SDNEXT_MAX_RESPONSE_MB * 1024 * 1024,
    },
    apiKeys,
    session: { secret: e.SESSION_SECRET ?? null, ttlMs: Math.round(e.SESSION_TTL_HOURS * 3_600_000) },
    trustProxy: trustProxyOf(e.TRUST_PROXY) ?? false,
    socket: {
      maxJobSubscriptions: e.SOCKET_MAX_JOB_SUBSCRIPTIONS,
      maxConnectionsPerKey: e.SOCKET_MAX_CONNECTIONS_PER_KEY,
    },
    delivery: { httpAllow: csv(e.DELIVERY_HTTP_ALLOW), cliCommands: csv(e.DELIVERY_CLI_COMMANDS) },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT ?? (process.stdout.isTTY ? LogFormat.Pretty : LogFormat.Json) },
    workerPort: e.WORKER_PORT,
    storageDir: resolve(dataDir, 'storage'),
    storage: storageOf(e, resolve(dataDir, 'storage')),
    storageWriteRetryMs: Math.round(e.STORAGE_WRITE_RETRY_SECONDS * 1000),
    storageMinFreeBytes: e.STORAGE_MIN_FREE_MB * 1024 * 1024,
    thumbnails: {
      maxSourceBytes: Math.round(e.THUMBNAIL_MAX_SOURCE_MB * 1024 * 1024),
      maxPixels: e.THUMBNAIL_MAX_PIXELS,
      concurrency: e.THUMBNAIL_CONCURRENCY,
    },
    watch: {
      enabled: e.LORA_WATCH,
      pollMs: e.LORA_WATCH_POLL_SECONDS > 0 ? Math.round(e.LORA_WATCH_POLL_SECONDS * 1000) : null,
      debounceMs: Math.round(e.LORA_WATCH_DEBOUNCE_SECONDS * 1000),
      settleMs: Math.round(e.LORA_WATCH_SETTLE_SECONDS * 1000),
    },
    importOnStart: e.IMPORT_ON_START,
    archive: {
      maxEntries: e.ARCHIVE_MAX_ENTRIES,
      maxUncompressedBytes: Math.round(e.ARCHIVE_MAX_GB * 1024 ** 3),
      maxRatio: e.ARCHIVE_MAX_RATIO,
    },
    backup: {
      everyMs: e.BACKUP_EVERY_HOURS > 0 ? Math.round(e.BACKUP_EVERY_HOURS * 3_600_000) : null,
      keep: e.BACKUP_KEEP,
    },
    resultsRetention: {
      maxAgeMs: e.RESULTS_MAX_AGE_DAYS > 0 ? Math.round(e.RESULTS_MAX_AGE_DAYS * 86_400_000) : null,
      maxTotalBytes: e.RESULTS_MAX_TOTAL_MB > 0 ? Math.round(e.RESULTS_MAX_TOTAL_MB * 1024 * 1024) : null,
      keepRating: e.RESULTS_KEEP_RATING,
      intervalMs: e.RESULTS_RETENTION_HOURS > 0 ? Math.round(e.RESULTS_RETENTION_HOURS * 3_600_000) : null,
      orphanGraceMs: Math.round(e.RESULTS_ORPHAN_GRACE_HOURS * 3_600_000),
    },
    jobs: {
      requeueAfterMs: Math.round(e.JOB_REQUEUE_AFTER_SECONDS * 1000),
      reconcileIntervalMs: Math.round(e.JOB_RECONCILE_INTERVAL_SECONDS * 1000),
    },
  };
}

function storageOf(e: z.infer<typeof envSchema>, dir: string): StorageConfig {
  if (!e.STORAGE_URL) return { kind: 'local', dir };
  const rest = e.STORAGE_URL.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  return {
    kind: 's3',
    bucket,
    prefix,
    endpoint: e.S3_ENDPOINT?.replace(/\/+$/, '') ?? null,
    region: e.S3_REGION ?? e.AWS_REGION ?? 'us-east-1',
    forcePathStyle: e.S3_FORCE_PATH_STYLE,
    credentials:
      e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
        ? {
            accessKeyId: e.AWS_ACCESS_KEY_ID,
            secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
            ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN } : {}),
          }
        : null,
    timeoutMs: Math.round(e.S3_TIMEOUT_SECONDS * 1000),
  };
}

/** Where product files are stored, for boot logs: the folder, or the bucket and prefix (never credentials). */
export function storageLocation(config: AppConfig): string {
  const s = config.storage;
  if (s.kind === 'local') return s.dir;
  return `s3://${s.bucket}/${s.prefix}${s.endpoint ? ` at ${s.endpoint}` : ''}`;
}

/** `127.0.0.1`, `::1`, `localhost` and the rest of 127.0.0.0/8: addresses no other machine can reach. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export enum ApiExposure {
  /** API keys guard every route but health and metrics. */
  Keys = 'keys',
  /** No keys, bound to loopback: only this machine reaches it. */
  OpenLoopback = 'open-loopback',
  /** No keys on a network interface, because ALLOW_OPEN_NETWORK says so. */
  OpenNetwork = 'open-network',
  /** No keys on a network interface without the opt-in: the API refuses to start. */
  Refused = 'refused',
}

export function apiExposure(config: AppConfig): ApiExposure {
  if (config.apiKeys.length > 0) return ApiExposure.Keys;
  if (isLoopbackAddress(config.host)) return ApiExposure.OpenLoopback;
  return config.allowOpenNetwork ? ApiExposure.OpenNetwork : ApiExposure.Refused;
}

/** The ConfigError an API without keys on a network interface stops with, or null when it may start. */
export function openNetworkRefusal(config: AppConfig): ConfigError | null {
  if (apiExposure(config) !== ApiExposure.Refused) return null;
  return new ConfigError([
    {
      variable: 'HOST',
      message:
        `${config.host} is reachable from the network but no API_KEYS are set, so anyone there could use the admin API. ` +
        'Set API_KEYS (key:role,…), listen on 127.0.0.1, or set ALLOW_OPEN_NETWORK=true if an open API on the network is intended',
    },
  ]);
}

/** Where the data lives, for boot logs and CLI summaries: the SQLite file's absolute path, or the PostgreSQL URL without password. */
export function databaseLocation(config: AppConfig): string {
  if (config.database.type === DatabaseType.Sqlite) return config.database.path;
  try {
    const url = new URL(config.database.url);
    url.password = '';
    const schema = config.database.schema ? ` (schema ${config.database.schema})` : '';
    return `${url.toString()}${schema}`;
  } catch {
    return 'postgres (unparsable DATABASE_URL)';
  }
}

let cached: AppConfig | undefined;

/** The one place that reads `process.env`; the result is cached for the life of the process. */
export function loadConfig(): AppConfig {
  cached ??= parseConfig(process.env);
  return cached;
}

/** Secrets to redact wherever text leaves the process (logs, error bodies). */
export function secretsOf(config: AppConfig): string[] {
  const secrets = config.apiKeys.map((k) => k.key);
  if (config.sdnext.auth) secrets.push(config.sdnext.auth.password);
  if (config.session.secret) secrets.push(config.session.secret);
  if (config.civitai.apiKey) secrets.push(config.civitai.apiKey);
  if (config.storage.kind === 's3' && config.storage.credentials) {
    secrets.push(config.storage.credentials.secretAccessKey);
    if (config.storage.credentials.sessionToken) secrets.push(config.storage.credentials.sessionToken);
  }
  return secrets.filter((s) => s.length > 0);
}
