import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ConflictError, NotFoundError, toNumber } from '@app/core';
import type { DataSource, Repository } from 'typeorm';
import { AdapterEntity } from '../library/adapter.entity.js';
import { CivitaiPort, type CivitaiJson } from './civitai.port.js';
import { type CivitaiNewerVersion, CivitaiUpdateEntity } from './civitai-runs.entity.js';

export interface CivitaiUpdateResult {
  adapterId: string;
  modelId: number;
  /** False when Civitai no longer knows the model. */
  modelFound: boolean;
  newer: CivitaiNewerVersion[];
  checkedAt: Date;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function newerVersionOf(v: CivitaiJson): CivitaiNewerVersion {
  const files = Array.isArray(v.files) ? (v.files as CivitaiJson[]) : [];
  const file = files.find((f) => f.primary === true) ?? files[0];
  const kb = typeof file?.sizeKB === 'number' ? file.sizeKB : null;
  const earlyEnds = text(v.earlyAccessEndsAt);
  return {
    id: v.id as number,
    name: text(v.name),
    publishedAt: text(v.publishedAt) ?? text(v.createdAt),
    baseModel: text(v.baseModel),
    fileSize: kb === null ? null : Math.round(kb * 1024),
    earlyAccess:
      v.availability === 'EarlyAccess' ||
      (earlyEnds !== null && Date.parse(earlyEnds) > Date.now()) ||
      (typeof v.earlyAccessTimeFrame === 'number' && v.earlyAccessTimeFrame > 0),
  };
}

/**
 * The versions of a linked adapter's model newer than its own (Civitai lists a model's versions newest first; a
 * version gone from the list is compared by date). The answer is kept per adapter in `civitai_updates`, and counts
 * only while the adapter is still on the version it was checked for.
 */
@Injectable()
export class CivitaiUpdateService {
  private readonly updates: Repository<CivitaiUpdateEntity>;
  private readonly adapters: Repository<AdapterEntity>;

  constructor(
    private readonly civitai: CivitaiPort,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.updates = dataSource.getRepository(CivitaiUpdateEntity);
    this.adapters = dataSource.getRepository(AdapterEntity);
  }

  async check(adapterId: string, signal?: AbortSignal): Promise<CivitaiUpdateResult> {
    const adapter = await this.adapters.findOne({
      select: { id: true, civitaiModelId: true, civitaiVersionId: true, publishedAt: true, missingSince: true },
      where: { id: adapterId },
    });
    if (!adapter) throw new NotFoundError('Adapter', adapterId);
    if (adapter.civitaiModelId === null) {
      throw new ConflictError(
        'not_linked',
        `Adapter ${adapterId} is not linked to a Civitai model; look it up or link it first`,
      );
    }
    const answer = await this.civitai.model(adapter.civitaiModelId, signal);
    const versions = (
      Array.isArray(answer.value?.modelVersions) ? (answer.value.modelVersions as CivitaiJson[]) : []
    ).filter((v) => typeof v.id === 'number');
    const at = versions.findIndex((v) => v.id === adapter.civitaiVersionId);
    const since = adapter.publishedAt ? new Date(adapter.publishedAt).getTime() : null;
    const newer = (
      at >= 0
        ? versions.slice(0, at)
        : versions.filter((v) => since !== null && Date.parse(String(v.publishedAt ?? v.createdAt)) > since)
    ).map(newerVersionOf);
    const checkedAt = new Date();
    await this.updates.save({
      adapterId,
      modelId: adapter.civitaiModelId,
      versionId: adapter.civitaiVersionId,
      newer,
      hasUpdate: newer.length > 0,
      checkedAt,
    });
    return { adapterId, modelId: adapter.civitaiModelId, modelFound: answer.value !== null, newer, checkedAt };
  }

  /** What the last check found for this adapter, while it is still on the version checked; null otherwise. */
  async of(adapterId: string): Promise<{ newer: CivitaiNewerVersion[]; checkedAt: Date } | null> {
    const row = await this.updates.findOneBy({ adapterId });
    if (!row) return null;
    const adapter = await this.adapters.findOne({
      select: { id: true, civitaiVersionId: true },
      where: { id: adapterId },
    });
    if (!adapter || adapter.civitaiVersionId !== row.versionId) return null;
    return { newer: row.newer, checkedAt: row.checkedAt };
  }

  /** Present adapters with a newer version known (the library's "updates available" count). */
  async countWithUpdates(): Promise<number> {
    const rows = await this.dataSource.query<{ n: unknown }[]>(
      `SELECT COUNT(*) AS n FROM civitai_updates u JOIN adapters a ON a.id = u.adapter_id ` +
        `WHERE u.has_update = ${this.pg ? 'true' : '1'} AND a.missing_since IS NULL AND a.civitai_version_id = u.version_id`,
    );
    return toNumber(rows[0]?.n);
  }

  /** Ids of present adapters linked to a Civitai model. */
  async linkedIds(): Promise<string[]> {
    const rows = await this.adapters
      .createQueryBuilder('a')
      .select('a.id', 'id')
      .where('a.missing_since IS NULL')
      .andWhere('a.civitai_model_id IS NOT NULL')
      .orderBy('a.id')
      .getRawMany<{ id: string }>();
    return rows.map((r) => r.id);
  }

  private get pg(): boolean {
    return this.dataSource.options.type === 'postgres';
  }
}
