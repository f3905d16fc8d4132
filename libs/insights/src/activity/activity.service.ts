import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { InvalidInputError, toNumber } from '@app/core';
import { DataSource } from 'typeorm';
import { isPostgres, readText, readTime, SqlParams } from '../sql-dialect.js';
import {
  ACTIVITY_LIMITS,
  type ActivityItem,
  ActivityKind,
  type ActivityPage,
  type ActivityQuery,
} from './activity.model.js';

interface Cursor {
  at: Date;
  id: string;
}

type Row = Record<string, unknown>;

/** Each source: its table, the columns it reads, and how a row reads in the feed. */
const SOURCES: Record<ActivityKind, { table: string; columns: string; toItem: (r: Row) => ActivityItem }> = {
  [ActivityKind.Import]: {
    table: 'import_runs',
    columns: 'id, created_at, status, counts',
    toItem: (r) => {
      const c = (typeof r.counts === 'string' ? JSON.parse(r.counts) : r.counts) as Record<string, unknown>;
      return item(ActivityKind.Import, r, {
        summary: `${toNumber(c.added)} added, ${toNumber(c.updated)} updated, ${toNumber(c.missing)} missing, ${toNumber(c.failed)} failed`,
      });
    },
  },
  [ActivityKind.Generation]: {
    table: 'generation_jobs',
    columns: 'id, created_at, status, backend_id, composed_prompt, error',
    toItem: (r) =>
      item(ActivityKind.Generation, r, {
        summary: short(r.status === 'failed' && r.error ? r.error : r.composed_prompt),
        target: readText(r.backend_id),
      }),
  },
  [ActivityKind.Delivery]: {
    table: 'delivery_jobs',
    columns: 'id, created_at, status, mode, prompt, error',
    toItem: (r) =>
      item(ActivityKind.Delivery, r, {
        summary: short(r.status === 'failed' && r.error ? r.error : r.prompt),
        target: String(r.mode),
      }),
  },
  [ActivityKind.Edit]: {
    table: 'adapter_edits',
    columns: 'id, created_at, action AS status, adapter_id, adapter_name, fields',
    toItem: (r) => {
      const fields = (typeof r.fields === 'string' ? JSON.parse(r.fields) : r.fields) as string[];
      return item(ActivityKind.Edit, r, {
        summary: short(r.adapter_name),
        adapterId: String(r.adapter_id),
        fields,
      });
    },
  },
};

/**
 * The activity feed: imports, generations, deliveries and adapter edits, newest first, keyset paged. Each source
 * reads at most one page past the cursor from its `(created_at, id)` index; the pages are merged here.
 */
@Injectable()
export class ActivityService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(query: ActivityQuery): Promise<ActivityPage> {
    const limit = query.limit ?? ACTIVITY_LIMITS.defaultLimit;
    const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const kinds = query.kinds?.length ? [...new Set(query.kinds)] : Object.values(ActivityKind);
    const pages = await Promise.all(kinds.map((kind) => this.page(kind, cursor, limit + 1)));
    const merged = pages
      .flat()
      .sort((a, b) => b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const items = merged.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: merged.length > limit && last ? encodeCursor({ at: last.at, id: last.id }) : null };
  }

  private async page(kind: ActivityKind, cursor: Cursor | null, limit: number): Promise<ActivityItem[]> {
    const source = SOURCES[kind];
    const p = new SqlParams(isPostgres(this.dataSource));
    let where = '';
    if (cursor) {
      const at = p.time(cursor.at);
      // The first term lets both databases seek in the index; the second breaks ties of equal times by id.
      where = `WHERE created_at <= ${at} AND (created_at < ${p.time(cursor.at)} OR id < ${p.add(cursor.id)})`;
    }
    const rows = await this.dataSource.query<Row[]>(
      `SELECT ${source.columns} FROM ${source.table} ${where} ORDER BY created_at DESC, id DESC LIMIT ${p.add(limit)}`,
      p.values,
    );
    return rows.map(source.toItem);
  }
}

function item(kind: ActivityKind, r: Row, fields: Partial<ActivityItem> & { summary: string }): ActivityItem {
  return {
    kind,
    id: String(r.id),
    at: readTime(r.created_at),
    status: String(r.status),
    adapterId: null,
    target: null,
    fields: [],
    ...fields,
  };
}

const short = (value: unknown): string => {
  const text = (readText(value) ?? '').replace(/\s+/g, ' ').trim();
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
};

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ at: cursor.at.toISOString(), id: cursor.id })).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { at?: unknown; id?: unknown };
    const at = typeof value.at === 'string' ? new Date(value.at) : null;
    if (at && !Number.isNaN(at.getTime()) && typeof value.id === 'string' && /^[0-9a-f-]{36}$/i.test(value.id)) {
      return { at, id: value.id };
    }
  } catch {
    // falls through to the refusal
  }
  throw InvalidInputError.field('cursor', 'is not a cursor this feed returned', 'invalid_cursor');
}
