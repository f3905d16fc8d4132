import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { chunk, toNumber } from '@app/core';
import { AdapterEntity } from '@app/adapters';
import { type DataSource, In } from 'typeorm';
import {
  IndexRebuildStatus,
  RecommendationFeedbackEntity,
  RecommendationIndexStateEntity,
  type RecommendationKind,
} from './recommendation.entities.js';
import type { AdapterText } from './text-analysis.js';

const STATE_ID = 'default';

/** An adapter's text as the index reads it, with the time of its last change. */
export interface IndexedAdapterRow extends AdapterText {
  updatedAt: Date;
}

/** What a recommendation shows of an adapter. */
export interface RecommendedAdapter {
  id: string;
  name: string;
  baseModel: string;
  modelType: string;
  tags: string[];
  triggerWords: string[];
  hasPreview: boolean;
}

export interface FeedbackTotals {
  useful: number;
  notUseful: number;
}

/** How often another adapter was used with one: in all, and per kind of use. */
export interface CoUsage {
  total: number;
  images: number;
  recipes: number;
  compositions: number;
  deliveries: number;
}

/** `adapter_co_use.source` (and `image` for result links) → its count in `CoUsage`. */
const CO_USE_FIELDS = {
  image: 'images',
  recipe: 'recipes',
  composition: 'compositions',
  delivery: 'deliveries',
} as const;

export interface NewFeedback {
  kind: RecommendationKind;
  sourceAdapterId: string | null;
  adapterId: string;
  useful: boolean;
  prompt: string | null;
}

const TEXT_COLUMNS = [
  'id',
  'name',
  'description',
  'tags',
  'trainedWords',
  'triggerWords',
  'creator',
  'baseModel',
  'updatedAt',
] as const;

@Injectable()
export class RecommendationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get pg(): boolean {
    return this.dataSource.options.type === 'postgres';
  }

  /** A time as the database compares it: SQLite keeps TypeORM's `YYYY-MM-DD HH:MM:SS.SSS` UTC text. */
  private time(value: Date): Date | string {
    return this.pg ? value : value.toISOString().replace('T', ' ').replace('Z', '');
  }

  private get adapters() {
    return this.dataSource.getRepository(AdapterEntity);
  }

  /** Present adapters after `afterId` in id order: the pages a rebuild reads. */
  async textPage(afterId: string | null, size: number): Promise<IndexedAdapterRow[]> {
    const query = this.adapters
      .createQueryBuilder('a')
      .select(TEXT_COLUMNS.map((c) => `a.${c}`))
      .where('a.missing_since IS NULL')
      .orderBy('a.id')
      .take(size);
    if (afterId !== null) query.andWhere('a.id > :afterId', { afterId });
    return query.getMany();
  }

  async countPresent(): Promise<number> {
    return this.adapters.createQueryBuilder('a').where('a.missing_since IS NULL').getCount();
  }

  /** Present adapters changed at or after `since` (served by the partial index on `updated_at`). */
  async changedSince(since: Date, limit: number): Promise<IndexedAdapterRow[]> {
    return this.adapters
      .createQueryBuilder('a')
      .select(TEXT_COLUMNS.map((c) => `a.${c}`))
      .where('a.missing_since IS NULL')
      .andWhere('a.updated_at >= :since', { since: this.time(since) })
      .orderBy('a.updated_at')
      .take(limit)
      .getMany();
  }

  /** The present adapter's text, or null when it is unknown or tombstoned. */
  async presentText(id: string): Promise<IndexedAdapterRow | null> {
    // Tombstones are filtered here, not in SQL: with `missing_since IS NULL` beside the id, SQLite walks
    // `idx_adapters_missing` (every present row) instead of the primary key.
    const row = await this.adapters
      .createQueryBuilder('a')
      .select([...TEXT_COLUMNS.map((c) => `a.${c}`), 'a.missingSince'])
      .where('a.id = :id', { id })
      .getOne();
    return row && row.missingSince === null ? row : null;
  }

  /** Present adapters among `ids`, by id (tombstoned and deleted ones are left out). */
  async presentAdapters(ids: readonly string[]): Promise<Map<string, RecommendedAdapter>> {
    const found = new Map<string, RecommendedAdapter>();
    for (const part of chunk([...ids], 500)) {
      const rows = await this.adapters
        .createQueryBuilder('a')
        .select(['a.id', 'a.name', 'a.baseModel', 'a.modelType', 'a.tags', 'a.triggerWords', 'a.hasPreview'])
        .addSelect('a.missingSince')
        .where({ id: In(part) })
        .getMany();
      // Tombstones are filtered here for the reason given in `presentText`.
      for (const r of rows) {
        if (r.missingSince !== null) continue;
        found.set(r.id, {
          id: r.id,
          name: r.name,
          baseModel: r.baseModel,
          modelType: r.modelType,
          tags: r.tags,
          triggerWords: r.triggerWords,
          hasPreview: r.hasPreview,
        });
      }
    }
    return found;
  }

  /**
   * Adapters used with this one, most first: in the same images (result links), recipes, composed generations and
   * composed deliveries (`adapter_co_use`), counted per source.
   */
  async coUsage(adapterId: string, limit: number): Promise<Map<string, CoUsage>> {
    const params: unknown[] = [];
    const p = (value: unknown): string => (params.push(value), this.pg ? `$${params.length}` : '?');
    const sql = `WITH used AS (
         SELECT b.adapter_id AS id, 'image' AS source, COUNT(*) AS uses FROM generation_result_adapters a
         JOIN generation_result_adapters b ON b.result_id = a.result_id AND b.adapter_id <> a.adapter_id
         WHERE a.adapter_id = ${p(adapterId)} GROUP BY b.adapter_id
         UNION ALL
         SELECT b.adapter_id, b.source, COUNT(*) FROM adapter_co_use a
         JOIN adapter_co_use b ON b.source = a.source AND b.source_id = a.source_id AND b.adapter_id <> a.adapter_id
         WHERE a.adapter_id = ${p(adapterId)} GROUP BY b.adapter_id, b.source),
       top AS (SELECT id FROM used GROUP BY id ORDER BY SUM(uses) DESC, id LIMIT ${p(limit)})
       SELECT used.id, used.source, used.uses FROM used JOIN top ON top.id = used.id`;
    const rows = await this.dataSource.query<{ id: string; source: string; uses: unknown }[]>(sql, params);
    const found = new Map<string, CoUsage>();
    for (const r of rows) {
      const usage = found.get(r.id) ?? { total: 0, images: 0, recipes: 0, compositions: 0, deliveries: 0 };
      const uses = toNumber(r.uses);
      usage.total += uses;
      usage[CO_USE_FIELDS[r.source as keyof typeof CO_USE_FIELDS] ?? 'images'] += uses;
      found.set(r.id, usage);
    }
    return found;
  }

  /** Feedback on these adapters: in the list of `sourceAdapterId` (when given), and in every list. */
  async feedbackTotals(
    adapterIds: readonly string[],
    sourceAdapterId: string | null,
  ): Promise<{ pair: Map<string, FeedbackTotals>; overall: Map<string, FeedbackTotals> }> {
    const pair = new Map<string, FeedbackTotals>();
    const overall = new Map<string, FeedbackTotals>();
    const add = (map: Map<string, FeedbackTotals>, id: string, useful: boolean, n: number): void => {
      const totals = map.get(id) ?? { useful: 0, notUseful: 0 };
      if (useful) totals.useful += n;
      else totals.notUseful += n;
      map.set(id, totals);
    };
    for (const part of chunk([...adapterIds], 500)) {
      const rows = await this.dataSource
        .getRepository(RecommendationFeedbackEntity)
        .createQueryBuilder('f')
        .select('f.adapter_id', 'id')
        .addSelect('f.source_adapter_id', 'source')
        .addSelect('f.useful', 'useful')
        .addSelect('COUNT(*)', 'n')
        .where({ adapterId: In(part) })
        .groupBy('f.adapter_id')
        .addGroupBy('f.source_adapter_id')
        .addGroupBy('f.useful')
        .getRawMany<{ id: string; source: string | null; useful: unknown; n: unknown }>();
      for (const r of rows) {
        const useful = r.useful === true || r.useful === 1 || r.useful === '1';
        const n = toNumber(r.n);
        add(overall, r.id, useful, n);
        if (sourceAdapterId !== null && r.source === sourceAdapterId) add(pair, r.id, useful, n);
      }
    }
    return { pair, overall };
  }

  async addFeedback(feedback: NewFeedback): Promise<RecommendationFeedbackEntity> {
    const row = Object.assign(new RecommendationFeedbackEntity(), {
      id: randomUUID(),
      ...feedback,
      createdAt: new Date(),
    });
    await this.dataSource.getRepository(RecommendationFeedbackEntity).insert(row);
    return row;
  }

  async state(): Promise<RecommendationIndexStateEntity | null> {
    return this.dataSource.getRepository(RecommendationIndexStateEntity).findOneBy({ id: STATE_ID });
  }

  /** Marks a rebuild as started by this job (the version stays until it completes). */
  async markRebuilding(jobId: string, at: Date): Promise<void> {
    const repo = this.dataSource.getRepository(RecommendationIndexStateEntity);
    const updated = await repo.update(
      { id: STATE_ID },
      { status: IndexRebuildStatus.Running, jobId, startedAt: at, error: null },
    );
    if (!updated.affected) {
      await repo
        .createQueryBuilder()
        .insert()
        .values({ id: STATE_ID, version: 0, status: IndexRebuildStatus.Running, jobId, startedAt: at })
        .orIgnore()
        .execute();
    }
  }

  /** Bumps the version after a rebuild; returns the new version. */
  async markRebuilt(
    jobId: string,
    stats: { documents: number; terms: number; buildMs: number },
    at: Date,
  ): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(RecommendationIndexStateEntity);
      await repo
        .createQueryBuilder()
        .update()
        .set({
          version: () => 'version + 1',
          status: IndexRebuildStatus.Completed,
          jobId,
          documents: stats.documents,
          terms: stats.terms,
          buildMs: stats.buildMs,
          builtAt: at,
          error: null,
        })
        .where('id = :id', { id: STATE_ID })
        .execute();
      return (await repo.findOneByOrFail({ id: STATE_ID })).version;
    });
  }

  async markRebuildFailed(jobId: string, error: string): Promise<void> {
    await this.dataSource
      .getRepository(RecommendationIndexStateEntity)
      .update({ id: STATE_ID, jobId }, { status: IndexRebuildStatus.Failed, error: error.slice(0, 2000) });
  }
}
