import type { QueueDepth } from '@app/core';

/** What one SD.Next backend says right now. */
export interface BackendStatus {
  id: string;
  /** Scheme, host and path only: credentials are never shown. */
  url: string;
  reachable: boolean;
  /** `sdnext`, `a1111` or `unknown`. */
  flavour: string;
  version: string | null;
  currentModel: string | null;
  busy: boolean;
  /** Only while busy: the server's progress (0..1), step, steps and estimated seconds left. */
  progress?: { progress: number; step: number; steps: number; etaSeconds: number | null; job: string };
  error: string | null;
}

export interface ProcessStatus {
  kind: string;
  host: string;
  pid: number;
  version: string;
  startedAt: Date;
  lastBeatAt: Date;
  alive: boolean;
}

export interface LatencyStatus {
  ok: boolean;
  latencyMs: number | null;
  error: string | null;
}

export interface DiskStatus {
  /** `DATA_DIR` or a library root's id. */
  name: string;
  path: string;
  freeBytes: number | null;
  totalBytes: number | null;
  error: string | null;
}

export interface SystemStatus {
  version: string;
  uptimeSeconds: number;
  startedAt: Date;
  /** `embedded` (SQLite, in-process jobs) or `scale-out` (PostgreSQL, BullMQ). */
  mode: 'embedded' | 'scale-out';
  database: LatencyStatus & { type: string };
  /** Absent in embedded mode. */
  redis?: LatencyStatus;
  backends: BackendStatus[];
  queues: QueueDepth[];
  processes: ProcessStatus[];
  /** Live processes by kind (heartbeat within the last 15 s). */
  alive: { api: number; worker: number };
  disks: DiskStatus[];
  checkedAt: Date;
}
