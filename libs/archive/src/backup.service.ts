import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  APP_CONFIG,
  type AppConfig,
  DatabaseType,
  errorMessage,
  FileStorage,
  InvalidInputError,
  NotFoundError,
  ProcessLeaseName,
  ProcessLeaseService,
} from '@app/core';
import { ArchiveExportService } from './archive-export.service.js';
import { ArchiveRepository } from './archive.repository.js';

export const BACKUP_PREFIX = 'backups/';
/** Backup names: what `create` writes, and all that download and delete accept. */
const BACKUP_NAME = /^lora-manager-\d{8}T\d{6}\d{3}Z(-[a-z]+)?\.(sqlite|zip)$/;

export enum BackupKind {
  /** A copy of the SQLite database made with the online backup API. */
  Sqlite = 'sqlite',
  /** The logical archive (rows, no files) of a PostgreSQL database. */
  Archive = 'archive',
}

export interface BackupInfo {
  name: string;
  kind: BackupKind;
  size: number;
  createdAt: Date;
}

/** How often a process checks whether the schedule is due: often enough for short test periods, cheap otherwise. */
const SCHEDULE_TICK_MS = 60_000;

/**
 * Backups stored through FileStorage under `backups/`: SQLite through its online backup API (consistent while the
 * API serves and imports write), PostgreSQL as the logical archive. A schedule (BACKUP_EVERY_HOURS) runs in the one
 * process that claims the period's lease, and keeps the newest BACKUP_KEEP.
 */
@Injectable()
export class BackupService {
  private creating: Promise<BackupInfo> | null = null;

  constructor(
    private readonly repository: ArchiveRepository,
    private readonly exporter: ArchiveExportService,
    private readonly storage: FileStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Makes a backup now; a second call while one is being made gets the same one. */
  create(label?: string): Promise<BackupInfo> {
    this.creating ??= this.make(label).finally(() => (this.creating = null));
    return this.creating;
  }

  private async make(label?: string): Promise<BackupInfo> {
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    const suffix = label ? `-${label}` : '';
    if (this.repository.databaseType === DatabaseType.Sqlite) {
      const name = `lora-manager-${stamp}${suffix}.sqlite`;
      const tempDir = join(this.config.dataDir, 'tmp');
      await mkdir(tempDir, { recursive: true });
      const temp = join(tempDir, name);
      try {
        await this.repository.sqliteBackup(temp);
        await this.storage.putStream(`${BACKUP_PREFIX}${name}`, createReadStream(temp));
      } finally {
        await rm(temp, { force: true });
      }
      return this.info(name);
    }
    const name = `lora-manager-${stamp}${suffix}.zip`;
    await this.storage.putStream(`${BACKUP_PREFIX}${name}`, this.exporter.export({ withFiles: false }));
    return this.info(name);
  }

  private async info(name: string): Promise<BackupInfo> {
    const stored = await this.storage.stat(`${BACKUP_PREFIX}${name}`);
    if (!stored) throw new NotFoundError('Backup', name);
    return { name, kind: kindOf(name), size: stored.size, createdAt: stored.modifiedAt };
  }

  /** Newest first. */
  async list(): Promise<BackupInfo[]> {
    const out: BackupInfo[] = [];
    for await (const object of this.storage.list(BACKUP_PREFIX)) {
      const name = object.key.slice(BACKUP_PREFIX.length);
      if (!BACKUP_NAME.test(name)) continue;
      out.push({ name, kind: kindOf(name), size: object.size, createdAt: object.modifiedAt });
    }
    return out.sort((a, b) => b.name.localeCompare(a.name));
  }

  async open(name: string): Promise<{ stream: Readable; size: number }> {
    const opened = await this.storage.open(`${BACKUP_PREFIX}${checkName(name)}`);
    if (!opened) throw new NotFoundError('Backup', name);
    return opened;
  }

  async delete(name: string): Promise<void> {
    const key = `${BACKUP_PREFIX}${checkName(name)}`;
    if (!(await this.storage.stat(key))) throw new NotFoundError('Backup', name);
    await this.storage.delete(key);
  }

  /** Deletes all but the newest `keep` backups. */
  async prune(keep: number): Promise<string[]> {
    const old = (await this.list()).slice(keep);
    for (const backup of old) await this.storage.delete(`${BACKUP_PREFIX}${backup.name}`);
    return old.map((b) => b.name);
  }
}

function checkName(name: string): string {
  if (!BACKUP_NAME.test(name))
    throw InvalidInputError.field('name', 'is not the name of a backup', 'backup_name_invalid');
  return name;
}

const kindOf = (name: string): BackupKind => (name.endsWith('.sqlite') ? BackupKind.Sqlite : BackupKind.Archive);

/** The backup schedule, hosted by the API: every instance ticks, the one that claims the period's lease backs up. */
@Injectable()
export class BackupScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BackupScheduler.name);
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly backups: BackupService,
    private readonly leases: ProcessLeaseService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const everyMs = this.config.backup.everyMs;
    if (everyMs === null) return;
    const tick = () => void this.runScheduled(everyMs);
    this.timers = [
      setInterval(tick, Math.min(SCHEDULE_TICK_MS, Math.max(1000, Math.floor(everyMs / 4)))),
      setTimeout(tick, 1000),
    ];
    this.timers.forEach((t) => t.unref());
  }

  onApplicationShutdown(): void {
    this.timers.forEach((t) => clearTimeout(t));
  }

  /** One backup a period across every process: the lease lasts the period, so whoever claims it makes that period's. */
  private async runScheduled(everyMs: number): Promise<void> {
    try {
      if (!(await this.leases.claimOnce(ProcessLeaseName.BackupSchedule, everyMs))) return;
      const made = await this.backups.create('scheduled');
      const pruned = await this.backups.prune(this.config.backup.keep);
      this.logger.log(`Scheduled backup ${made.name} (${made.size} bytes); ${pruned.length} old ones deleted`);
    } catch (error) {
      this.logger.error(`Scheduled backup failed: ${errorMessage(error)}`);
    }
  }
}
