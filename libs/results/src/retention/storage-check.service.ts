import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig, chunk, FileStorage, type StoredObject } from '@app/core';
import { type DataSource, In } from 'typeorm';
import { GenerationJobEntity } from '@app/generation';
import { GenerationResultEntity } from '../generation-result.entity.js';
import { ResultsService } from '../results.service.js';

/** Where generated images are stored: `generations/<jobId>/<index>.<ext>` (the generation runner's keys). */
export const RESULTS_PREFIX = 'generations/';
const BATCH = 500;
const SAMPLE = 20;

export interface StorageCheckReport {
  repair: boolean;
  /** Orphaned files younger than this are reported but never deleted: a result may be being recorded. */
  graceHours: number;
  files: { count: number; bytes: number };
  rows: number;
  /** Files under `generations/` that neither a result row nor a generation job names. */
  orphans: { count: number; bytes: number; sample: string[]; deleted: number; deletedBytes: number };
  /** Files without a result row whose generation job still exists (made before results were recorded): kept. */
  unrecorded: { count: number; bytes: number };
  /** Result rows whose file is gone: deleted on repair (`result.deleted` emitted), since nothing can show them. */
  broken: { count: number; sample: string[]; deleted: number };
  startedAt: string;
  finishedAt: string;
}

/**
 * `storage check`: files under `results/` without a row (orphans: a crash between writing the file and recording the
 * row, or between deleting the row and the file) and rows whose file is gone. Walks the storage listing in batches
 * against the database, then the rows by keyset against the set of listed keys (about 100 bytes per file in memory).
 * Rows newer than the check itself are never called broken.
 */
@Injectable()
export class StorageCheckService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly storage: FileStorage,
    private readonly results: ResultsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async check(options: { repair: boolean; graceMs?: number }): Promise<StorageCheckReport> {
    const startedAt = new Date();
    const graceMs = options.graceMs ?? this.config.resultsRetention.orphanGraceMs;
    const repo = this.dataSource.getRepository(GenerationResultEntity);
    const report: StorageCheckReport = {
      repair: options.repair,
      graceHours: graceMs / 3_600_000,
      files: { count: 0, bytes: 0 },
      rows: 0,
      orphans: { count: 0, bytes: 0, sample: [], deleted: 0, deletedBytes: 0 },
      unrecorded: { count: 0, bytes: 0 },
      broken: { count: 0, sample: [], deleted: 0 },
      startedAt: startedAt.toISOString(),
      finishedAt: '',
    };
    const keys = new Set<string>();
    const onOrphans = async (batch: StoredObject[]) => {
      const known = await repo.find({
        where: { storageKey: In(batch.map((o) => o.key)) },
        select: { storageKey: true },
      });
      const named = new Set(known.map((r) => r.storageKey));
      const loose = batch.filter((o) => !named.has(o.key));
      const jobIds = [...new Set(loose.map((o) => jobIdOf(o.key)).filter((id) => id !== null))];
      const jobs = jobIds.length
        ? await this.dataSource
            .getRepository(GenerationJobEntity)
            .find({ where: { id: In(jobIds) }, select: { id: true } })
        : [];
      const live = new Set(jobs.map((j) => j.id));
      for (const object of loose) {
        const jobId = jobIdOf(object.key);
        if (jobId !== null && live.has(jobId)) {
          report.unrecorded.count++;
          report.unrecorded.bytes += object.size;
          continue;
        }
        report.orphans.count++;
        report.orphans.bytes += object.size;
        if (report.orphans.sample.length < SAMPLE) report.orphans.sample.push(object.key);
        if (options.repair && startedAt.getTime() - object.modifiedAt.getTime() >= graceMs) {
          await this.storage.delete(object.key);
          report.orphans.deleted++;
          report.orphans.deletedBytes += object.size;
        }
      }
    };
    let batch: StoredObject[] = [];
    for await (const object of this.storage.list(RESULTS_PREFIX)) {
      keys.add(object.key);
      report.files.count++;
      report.files.bytes += object.size;
      batch.push(object);
      if (batch.length === BATCH) {
        await onOrphans(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await onOrphans(batch);

    const pg = this.dataSource.options.type === 'postgres';
    const before = pg ? startedAt : startedAt.toISOString().replace('T', ' ').replace('Z', '');
    let lastId: string | null = null;
    for (;;) {
      const qb = repo
        .createQueryBuilder('r')
        .select(['r.id', 'r.storageKey'])
        .where('r.created_at < :before', { before });
      if (lastId !== null) qb.andWhere('r.id > :lastId', { lastId });
      const rows = await qb
        .orderBy('r.id', 'ASC')
        .limit(BATCH * 2)
        .getMany();
      if (rows.length === 0) break;
      lastId = rows.at(-1)!.id;
      report.rows += rows.length;
      const broken = rows.filter((r) => !keys.has(r.storageKey)).map((r) => r.id);
      report.broken.count += broken.length;
      for (const id of broken) if (report.broken.sample.length < SAMPLE) report.broken.sample.push(id);
      if (options.repair) {
        for (const part of chunk(broken, BATCH))
          report.broken.deleted += (await this.results.deleteMany(part)).done.length;
      }
    }
    report.finishedAt = new Date().toISOString();
    return report;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `generations/<jobId>/…` → the job id, or null for a key of another shape. */
function jobIdOf(key: string): string | null {
  const id = key.slice(RESULTS_PREFIX.length).split('/')[0];
  return UUID.test(id) ? id.toLowerCase() : null;
}
