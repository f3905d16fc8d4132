import { statfs } from 'node:fs/promises';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig, errorMessage, JobQueue, productVersion } from '@app/core';
import { LibraryRoots } from '@app/adapters';
import { SdNextClient } from '@app/generation';
import { DataSource } from 'typeorm';
import { HEARTBEAT_ALIVE_MS } from './heartbeat.service.js';
import { ProcessHeartbeatEntity, ProcessKind } from './process-heartbeat.entity.js';
import type { BackendStatus, DiskStatus, LatencyStatus, ProcessStatus, SystemStatus } from './system-status.model.js';

/** Each backend's probe waits at most this long: the status page must answer even when a GPU box is down. */
const BACKEND_TIMEOUT_MS = 2_000;
const PROBE_TIMEOUT_MS = 3_000;

/** The system status: backends, queues, live processes, database and Redis latency, disk space. No secrets. */
@Injectable()
export class SystemStatusService {
  private readonly startedAt = new Date(Date.now() - Math.round(process.uptime() * 1000));
  private readonly clients: { id: string; client: SdNextClient }[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: JobQueue,
    private readonly roots: LibraryRoots,
  ) {
    this.clients = config.sdnext.backends.map((b) => ({
      id: b.id,
      client: new SdNextClient({
        baseUrl: b.url,
        auth: config.sdnext.auth ?? undefined,
        shortTimeoutMs: BACKEND_TIMEOUT_MS,
      }),
    }));
  }

  async status(): Promise<SystemStatus> {
    const scaleOut = this.jobs.mode === 'bullmq';
    const [database, redis, backends, queues, processes, disks] = await Promise.all([
      timed(() => this.dataSource.query('SELECT 1')),
      scaleOut ? timed(() => this.jobs.ping()) : Promise.resolve(undefined),
      Promise.all(this.clients.map((b) => backendStatus(b.id, b.client))),
      this.jobs.depths().catch(() => []),
      this.processes(),
      this.disks(),
    ]);
    return {
      version: productVersion(),
      uptimeSeconds: Math.round(process.uptime()),
      startedAt: this.startedAt,
      mode: scaleOut ? 'scale-out' : 'embedded',
      database: { ...database, type: this.dataSource.options.type },
      redis,
      backends,
      queues,
      processes,
      alive: {
        api: processes.filter((p) => p.alive && p.kind === (ProcessKind.Api as string)).length,
        worker: processes.filter((p) => p.alive && p.kind === (ProcessKind.Worker as string)).length,
      },
      disks,
      checkedAt: new Date(),
    };
  }

  private async processes(): Promise<ProcessStatus[]> {
    const rows = await this.dataSource
      .getRepository(ProcessHeartbeatEntity)
      .find({ order: { kind: 'ASC', startedAt: 'ASC' }, take: 200 })
      .catch(() => []);
    const now = Date.now();
    return rows.map((r) => ({
      kind: r.kind,
      host: r.host,
      pid: r.pid,
      version: r.version,
      startedAt: r.startedAt,
      lastBeatAt: r.beatAt,
      alive: now - r.beatAt.getTime() <= HEARTBEAT_ALIVE_MS,
    }));
  }

  private disks(): Promise<DiskStatus[]> {
    const places = [
      { name: 'DATA_DIR', path: this.config.dataDir },
      ...this.roots.list().map((r) => ({ name: r.id, path: r.path })),
    ];
    return Promise.all(
      places.map(async (place) => {
        try {
          const s = await statfs(place.path);
          return { ...place, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize, error: null };
        } catch (error) {
          return { ...place, freeBytes: null, totalBytes: null, error: errorMessage(error) };
        }
      }),
    );
  }
}

async function backendStatus(id: string, client: SdNextClient): Promise<BackendStatus> {
  const [probe, progress] = await Promise.all([client.probe(), client.progress().catch(() => null)]);
  const busy = progress !== null && (progress.jobCount > 0 || progress.job !== '');
  return {
    id,
    url: client.displayUrl,
    reachable: probe.reachable && !probe.error,
    flavour: probe.flavour,
    version: probe.version ?? null,
    currentModel: probe.currentModel ?? null,
    busy,
    progress:
      busy && progress
        ? {
            progress: progress.progress,
            step: progress.step,
            steps: progress.steps,
            etaSeconds: progress.etaSeconds,
            job: progress.job,
          }
        : undefined,
    error: probe.error?.message ?? null,
  };
}

/** Runs a probe with a deadline and measures it. */
async function timed(run: () => Promise<unknown>): Promise<LatencyStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: round(performance.now() - started), error: null };
  } catch (error) {
    return { ok: false, latencyMs: null, error: errorMessage(error) };
  } finally {
    clearTimeout(timer);
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
