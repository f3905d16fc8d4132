import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { chunk, InvalidInputError, RowSql } from '@app/core';
import { type DataSource, In, type SelectQueryBuilder } from 'typeorm';
import { GenerationResultAdapterEntity, GenerationResultEntity } from './generation-result.entity.js';
import { type ResultListQuery, ResultOrder, ResultSort, type ResultUserFields } from './result-query.js';

interface Cursor {
  /** The sort key of the last row (ISO time or rating). */
  k: string | number;
  id: string;
}

const SORT_COLUMNS: Record<ResultSort, string> = {
  [ResultSort.CreatedAt]: 'r.created_at',
  [ResultSort.Rating]: 'r.rating',
};

@Injectable()
export class GenerationResultRepository {
  /** Recording a job's results, once a job, written out: see RowSql. */
  private readonly rows: RowSql<GenerationResultEntity>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.rows = new RowSql(dataSource, GenerationResultEntity);
  }

  private get pg(): boolean {
    return this.dataSource.options.type === 'postgres';
  }

  private get results() {
    return this.dataSource.getRepository(GenerationResultEntity);
  }

  /** A time as the database compares it: SQLite keeps TypeORM's `YYYY-MM-DD HH:MM:SS.SSS` UTC text. */
  private time(value: Date): Date | string {
    return this.pg ? value : value.toISOString().replace('T', ' ').replace('Z', '');
  }

  /** Inserts the results of one job with their adapter links; an image already recorded is left as it is. */
  async insertMany(rows: GenerationResultEntity[]): Promise<GenerationResultEntity[]> {
    if (rows.length === 0) return [];
    return this.dataSource.transaction(async (m) => {
      const within = m.queryRunner;
      const existing = await this.rows.run(
        'SELECT {imageIndex} AS i FROM {table} WHERE {jobId} = ?',
        [rows[0].jobId],
        within,
      );
      const taken = new Set(existing.rows.map((e) => Number(e.i)));
      const fresh = rows.filter((r) => !taken.has(r.imageIndex));
      // One row per statement: a batch holds at most a few dozen images.
      for (const row of fresh) await this.rows.insert(row, { within });
      const links = new Map<string, GenerationResultAdapterEntity>();
      for (const row of fresh) {
        for (const lora of row.loras) {
          if (!lora.adapterId) continue;
          links.set(`${row.id}/${lora.adapterId}`, {
            resultId: row.id,
            adapterId: lora.adapterId,
            baseModel: lora.baseModel,
          });
        }
      }
      for (const part of chunk([...links.values()], 200)) {
        await m.getRepository(GenerationResultAdapterEntity).insert(part);
      }
      return fresh;
    });
  }

  findById(id: string): Promise<GenerationResultEntity | null> {
    return this.results.findOneBy({ id });
  }

  findByIds(ids: string[]): Promise<GenerationResultEntity[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.results.findBy({ id: In(ids) });
  }

  /** One page in keyset order, and the cursor of the next one (null on the last page). */
  async list(query: ResultListQuery): Promise<{ items: GenerationResultEntity[]; nextCursor: string | null }> {
    const sort = query.sort ?? ResultSort.CreatedAt;
    const order = query.order ?? ResultOrder.Desc;
    const limit = query.limit ?? 50;
    const qb = this.results.createQueryBuilder('r');
    this.applyFilters(qb, query);
    const column = SORT_COLUMNS[sort];
    if (query.cursor !== undefined) {
      const cursor = decodeCursor(query.cursor);
      const key = sort === ResultSort.CreatedAt ? this.time(new Date(String(cursor.k))) : Number(cursor.k);
      const op = order === ResultOrder.Desc ? '<' : '>';
      qb.andWhere(`(${column} ${op} :ck OR (${column} = :ck AND r.id ${op} :cid))`, { ck: key, cid: cursor.id });
    }
    const direction = order === ResultOrder.Desc ? 'DESC' : 'ASC';
    qb.orderBy(column, direction)
      .addOrderBy('r.id', direction)
      .limit(limit + 1);
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    const nextCursor =
      rows.length > limit && last
        ? encodeCursor({ k: sort === ResultSort.CreatedAt ? last.createdAt.toISOString() : last.rating, id: last.id })
        : null;
    return { items, nextCursor };
  }

  /** How many results the filters match and their image bytes (the export estimate). */
  async totals(query: ResultListQuery): Promise<{ count: number; bytes: number }> {
    const qb = this.results.createQueryBuilder('r');
    this.applyFilters(qb, query);
    const row = await qb
      .select('COUNT(*)', 'count')
      .addSelect('COALESCE(SUM(r.bytes), 0)', 'bytes')
      .getRawOne<{ count: string | number; bytes: string | number }>();
    return { count: Number(row?.count ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  private applyFilters(qb: SelectQueryBuilder<GenerationResultEntity>, query: ResultListQuery): void {
    if (query.from) qb.andWhere('r.created_at >= :from', { from: this.time(query.from) });
    if (query.to) qb.andWhere('r.created_at < :to', { to: this.time(query.to) });
    if (query.backendId !== undefined) qb.andWhere('r.backend_id = :backendId', { backendId: query.backendId });
    if (query.minRating !== undefined) qb.andWhere('r.rating >= :minRating', { minRating: query.minRating });
    if (query.favorite !== undefined) qb.andWhere('r.favorite = :favorite', { favorite: query.favorite });
    if (query.q) {
      const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const op = this.pg ? 'ILIKE' : 'LIKE';
      qb.andWhere(`(r.prompt ${op} :q ESCAPE '\\' OR r.negative_prompt ${op} :q ESCAPE '\\')`, { q: like });
    }
    if (query.adapterId !== undefined) {
      qb.andWhere(
        'EXISTS (SELECT 1 FROM generation_result_adapters ra WHERE ra.result_id = r.id AND ra.adapter_id = :adapterId)',
        { adapterId: query.adapterId },
      );
    }
    if (query.baseModel !== undefined) {
      qb.andWhere(
        'EXISTS (SELECT 1 FROM generation_result_adapters rb WHERE rb.result_id = r.id AND rb.base_model = :baseModel)',
        { baseModel: query.baseModel },
      );
    }
  }

  async update(id: string, fields: ResultUserFields): Promise<boolean> {
    const values: Pick<Partial<GenerationResultEntity>, 'rating' | 'favorite' | 'tags' | 'notes' | 'updatedAt'> = {
      updatedAt: new Date(),
    };
    if (fields.rating !== undefined) values.rating = fields.rating;
    if (fields.favorite !== undefined) values.favorite = fields.favorite;
    if (fields.tags !== undefined) values.tags = fields.tags;
    if (fields.notes !== undefined) values.notes = fields.notes;
    const result = await this.results.update({ id }, values);
    return result.affected === 1;
  }

  /** Sets the favorite flag of every listed result; the ids that exist. */
  async setFavorite(ids: string[], favorite: boolean): Promise<string[]> {
    const found = await this.existingIds(ids);
    for (const part of chunk(found, 500)) {
      await this.results.update({ id: In(part) }, { favorite, updatedAt: new Date() });
    }
    return found;
  }

  async saveTags(rows: GenerationResultEntity[]): Promise<void> {
    const now = new Date();
    await this.dataSource.transaction(async (m) => {
      for (const row of rows) {
        await m.getRepository(GenerationResultEntity).update({ id: row.id }, { tags: row.tags, updatedAt: now });
      }
    });
  }

  /** Deletes the rows (and their adapter links); the rows as they were, for their files and events. */
  async deleteMany(ids: string[]): Promise<GenerationResultEntity[]> {
    return this.dataSource.transaction(async (m) => {
      const out: GenerationResultEntity[] = [];
      for (const part of chunk([...new Set(ids)], 500)) {
        const rows = await m.getRepository(GenerationResultEntity).findBy({ id: In(part) });
        if (rows.length === 0) continue;
        const found = rows.map((r) => r.id);
        await m.getRepository(GenerationResultAdapterEntity).delete({ resultId: In(found) });
        await m.getRepository(GenerationResultEntity).delete({ id: In(found) });
        out.push(...rows);
      }
      return out;
    });
  }

  private async existingIds(ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const part of chunk([...new Set(ids)], 500)) {
      const rows = await this.results.find({ where: { id: In(part) }, select: { id: true } });
      out.push(...rows.map((r) => r.id));
    }
    return out;
  }
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    const keyOk =
      typeof value.k === 'number' || (typeof value.k === 'string' && !Number.isNaN(new Date(value.k).getTime()));
    if (keyOk && typeof value.id === 'string' && /^[0-9a-f-]{36}$/i.test(value.id)) return value as Cursor;
  } catch {
    // falls through to the refusal
  }
  throw InvalidInputError.field('cursor', 'is not a cursor this list returned', 'invalid_cursor');
}
