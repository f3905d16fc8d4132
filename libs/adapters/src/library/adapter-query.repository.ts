import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { APP_CONFIG, type AppConfig, chunk, runPrepared, toNumber } from '@app/core';
import { fts5QueryOf, tsQueryOf } from './adapter-search.js';
import { AdapterEntity } from './adapter.entity.js';
import {
  type AdapterFacets,
  AdapterSort,
  type AdapterFilter,
  SortOrder,
  TagMode,
  type ValueCount,
} from './adapter-query.model.js';
import { SqliteReadCache } from './sqlite-read-cache.js';

/** SQLite: the share of the index an import must change for its statistics to be refreshed. */
const STATISTICS_SHARE = 0.25;

/** Collects bound parameters in text order: `?` on SQLite, `$n` on PostgreSQL. Values are never interpolated. */
class Params {
  readonly values: unknown[] = [];
  constructor(private readonly pg: boolean) {}

  add(value: string | number | boolean): string {
    // better-sqlite3 cannot bind booleans; SQLite stores them as 0/1.
    this.values.push(!this.pg && typeof value === 'boolean' ? (value ? 1 : 0) : value);
    return this.pg ? `$${this.values.length}` : '?';
  }

  list(values: readonly (string | number)[]): string {
    return values.map((v) => this.add(v)).join(', ');
  }
}

/** The column of each column sort, in `adapters` (and, but for `updated_at`, in PostgreSQL's `adapter_search`). */
const SORT_COLUMNS: Record<Exclude<AdapterSort, AdapterSort.Relevance>, string> = {
  [AdapterSort.Name]: 'sort_name',
  [AdapterSort.Created]: 'created_at',
  [AdapterSort.Updated]: 'updated_at',
  [AdapterSort.Downloads]: 'downloads',
  [AdapterSort.Rating]: 'rating',
  [AdapterSort.Likes]: 'likes',
  [AdapterSort.Size]: 'file_size',
};

/**
 * PostgreSQL: the sorts whose keys `adapter_search` holds beside each adapter's vector (migration 1764300005100), so
 * that a search alone sorted by one of them is counted and paged in one pass over that narrow table. `updated_at`
 * is not kept there: every write changes it.
 */
const SEARCH_TABLE_SORTS: ReadonlySet<AdapterSort> = new Set(
  (Object.keys(SORT_COLUMNS) as AdapterSort[]).filter((sort) => sort !== AdapterSort.Updated),
);

/** Unrated (NULL) ratings sort as the lowest value on both databases. */
const nullsOf = (sort: AdapterSort, order: SortOrder): string =>
  sort === AdapterSort.Rating ? (order === SortOrder.Asc ? ' NULLS FIRST' : ' NULLS LAST') : '';

/**
 * SQLite index behind each sort column, walked in order when the filter keeps many present rows: `(column)
 * WHERE missing_since IS NULL` (migration 1764300001000), whose entries end with the rowid, the tie-break; so a
 * deep page counts off its offset inside the index.
 */
const SORT_INDEXES: Record<Exclude<AdapterSort, AdapterSort.Relevance>, string> = {
  [AdapterSort.Name]: 'idx_adapters_name_present',
  [AdapterSort.Created]: 'idx_adapters_created_present',
  [AdapterSort.Updated]: 'idx_adapters_updated_present',
  [AdapterSort.Downloads]: 'idx_adapters_downloads_present',
  [AdapterSort.Rating]: 'idx_adapters_rating_present',
  [AdapterSort.Likes]: 'idx_adapters_likes_present',
  [AdapterSort.Size]: 'idx_adapters_size_present',
};

const IN_CHUNK = 500;
/** SQLite: read results kept while the database is unchanged (see `read`). */
const DEFAULT_READ_CACHE_ENTRIES = 256;
/** PostgreSQL keeps summaries by row, not query results: a page's worth of rows for each `QUERY_CACHE_ENTRIES`. */
const SUMMARIES_PER_CACHE_ENTRY = 50;

/** The whole library's count: every present adapter has exactly one base model, so the sum of that facet. */
const PRESENT_TOTAL_SQL = `SELECT COALESCE(SUM(c.n), 0) AS n FROM adapter_facet_counts c WHERE c.facet = 'base_model'`;

/** PostgreSQL: whether adapter `a` has a newer Civitai version known for the version it is on (`civitai_updates`). */
const PG_HAS_UPDATE =
  'EXISTS (SELECT 1 FROM civitai_updates u WHERE u.adapter_id = a.id AND u.version_id = a.civitai_version_id AND u.has_update)';

/** PostgreSQL: a page row's version (`xmin`, new on every write of the row) and its Civitai update flag. */
export interface PageRowState {
  version: string;
  hasUpdate: boolean;
}

/** A page's ids in order and, on PostgreSQL, the state of each row, read with the page (`findPageSummaries`). */
export interface PageRows {
  ids: string[];
  states?: Map<string, PageRowState>;
}

type PageRowOf = { id: string; v: string; u: boolean };

/**
 * PostgreSQL: a page row's state and the whole library's total, as columns of the page statement. Only for pages
 * before this offset: the columns are computed for every skipped row too (a heap read and the update probe each,
 * 67 ms for page 1,000 against 4.6 ms for the ids alone), where deeper pages join the states to the 50 ids.
 */
const PG_STATE_COLUMNS_MAX_OFFSET = 500;
/**
 * PostgreSQL: first-page statements written with their LIMIT and OFFSET as numbers (`pgFirstPagesQuery`), at most:
 * each is a statement prepared on every connection, and later pages take both as parameters again.
 */
const PG_LITERAL_PAGE_STATEMENTS = 64;
/** PostgreSQL: a page row's state and the whole library's total, as columns of the page statement. */
const PG_ROW_STATE_COLUMNS = `, a.xmin::text AS v, ${PG_HAS_UPDATE} AS u, (${PRESENT_TOTAL_SQL}) AS total`;

/** PostgreSQL: the rows of a page-ids statement with their states; `n` is each row's place in the statement's order. */
const pgPageRowsSql = (pageSql: string): string =>
  `SELECT p.id AS id, p.n AS n, a.xmin::text AS v, ${PG_HAS_UPDATE} AS u ` +
  `FROM unnest(ARRAY(${pageSql})) WITH ORDINALITY AS p(id, n) JOIN adapters a ON a.id = p.id`;

/** A count written into SQL text: a non-negative safe integer, or an error (never text from outside). */
function safeCount(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a row count: ${n}`);
  return n;
}

function pageRowsOf(rows: readonly PageRowOf[]): Required<PageRows> {
  return {
    ids: rows.map((r) => r.id),
    states: new Map(rows.map((r) => [r.id, { version: r.v, hasUpdate: r.u }])),
  };
}
/** Appended facet-count rows tolerated beyond two a value before they are folded (PostgreSQL). */
const COMPACT_SLACK = 1000;
const NO_CONDITION = '1 = 1';

/**
 * Which rows a statement keeps by tombstone: the filter's own choice, every row, or only tombstones. Counting
 * "every row" needs no table lookup (an index or the FTS index answers alone); tombstones are few, so
 * present = every − tombstoned is exact and much cheaper than testing `missing_since` row by row.
 */
type Presence = 'filter' | 'any' | 'missing';

/**
 * The FROM and WHERE of a filter, whether the full-text index drives the join, and the alias of the table that
 * holds the adapter's `id` (and, on PostgreSQL, its `search_vector`): `a` (adapters) or `s` (adapter_search).
 */
interface Source {
  from: string;
  where: string;
  ftsDriven: boolean;
  table: 'a' | 's';
}

/** Every column except the large JSON ones a list page never shows. */
const SUMMARY_COLUMNS: ReadonlySet<string> = new Set<keyof AdapterEntity>([
  'id',
  'rootId',
  'relativePath',
  'folder',
  'fileName',
  'fileSize',
  'fileMtimeMs',
  'sha256',
  'sha256Verified',
  'autoV2',
  'autoV3',
  'name',
  'sortName',
  'versionName',
  'creator',
  'civitaiModelId',
  'civitaiVersionId',
  'baseModel',
  'modelType',
  'tags',
  'trainedWords',
  'triggerWords',
  'activationText',
  'preferredWeight',
  'weightMin',
  'weightMax',
  'nsfwLevel',
  'nsfwOverride',
  'nsfwMax',
  'downloads',
  'likes',
  'rating',
  'ratingCount',
  'hasPreview',
  'hasWarnings',
  'previewPath',
  'notes',
  'favorite',
  'active',
  'ordinal',
  'missingSince',
  'createdAt',
  'updatedAt',
]);

/** Freezes a summary entity and the lists and objects it holds: it is shared by every read of its cached row. */
function frozenSummary(entity: AdapterEntity): AdapterEntity {
  for (const value of Object.values(entity)) if (value !== null && typeof value === 'object') Object.freeze(value);
  return Object.freeze(entity);
}

/**
 * The read side of the adapter library: lists, facets, counts and lookups; it writes nothing (edits and imports go
 * through `AdapterRepository`). SQL is hand-built and parameterised.
 */
@Injectable()
export class AdapterQueryRepository {
  private readonly pg: boolean;

  private summaryColumns?: ColumnMetadata[];

  /**
   * Summary entities already converted from a row the SQLite read cache holds: a repeated page (its rows are the
   * cached objects) skips TypeORM's conversion of every value (JSON lists, dates), the list path's costliest step.
   * They are shared, so frozen.
   */
  private readonly hydratedRows = new WeakMap<object, AdapterEntity>();

  private readonly missingCounts = new WeakMap<AdapterFilter, Promise<number>>();

  private compacting?: Promise<void>;

  /** SQLite only (PostgreSQL has no cheap "has anything changed" check). */
  private readonly readCache?: SqliteReadCache;

  /**
   * PostgreSQL only: list-page summary entities by id, with the row version (`xmin`) they were read at; shared, so
   * frozen. A page's statement also returns each row's version and update flag (`PageRows.states`), and only the
   * rows that changed since, or were never read, are loaded (`findPageSummaries`).
   */
  private readonly pgSummaries?: Map<string, { version: string; entity: AdapterEntity }>;
  private readonly pgSummaryLimit: number;
  /** The first-page statements written with a literal LIMIT and OFFSET so far (`pgFirstPagesQuery`). */
  private readonly pgLiteralPages = new Set<string>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Optional() @Inject(APP_CONFIG) config?: Pick<AppConfig, 'queryCacheEntries'>,
  ) {
    this.pg = dataSource.options.type === 'postgres';
    const entries = config?.queryCacheEntries ?? DEFAULT_READ_CACHE_ENTRIES;
    if (!this.pg) this.readCache = new SqliteReadCache(dataSource, entries);
    this.pgSummaryLimit = entries * SUMMARIES_PER_CACHE_ENTRY;
    if (this.pg && entries > 0) this.pgSummaries = new Map();
  }

  /**
   * Count of adapters that match the filter. For present adapters under a filter an index counts without
   * knowing presence (`presenceBlind`), the count is every match minus the tombstoned matches: testing
   * `missing_since` row by row costs more than counting the few tombstones (on PostgreSQL too, where reaching
   * that late column means decoding each whole row).
   */
  async count(filter: AdapterFilter): Promise<number> {
    if (this.unfiltered(filter)) return this.presentTotal();
    if (!filter.missing && this.presenceBlind(filter)) {
      const every = await this.countOf(filter, 'any');
      return every === 0 ? 0 : every - (await this.missingMatches(filter));
    }
    return this.countOf(filter, 'filter');
  }

  /** Every present adapter has exactly one base model: the whole library's count is the sum of that facet. */
  private async presentTotal(): Promise<number> {
    const rows = await this.read<{ n: unknown }>(PRESENT_TOTAL_SQL, []);
    return toNumber(rows[0]?.n);
  }

  /**
   * One list page: the filter's total, the page's ids in order (none when `offset` is at or past the total) and,
   * with `tagLimit`, the base-model and tag facets. The plan is picked here, where the SQL is:
   * - facets asked: one pass gives the facets and the total (and, on PostgreSQL, a relevance page);
   * - PostgreSQL relevance: one pass gives the total and the page;
   * - PostgreSQL, a search alone sorted by a column of `adapter_search`: one pass over that table gives both;
   * - else a count, then the page.
   */
  async listPage(
    filter: AdapterFilter,
    page: { sort: AdapterSort; order: SortOrder; offset: number; limit: number },
    tagLimit?: number,
  ): Promise<PageRows & { total: number; facets?: Required<AdapterFacets> }> {
    const { sort, order, offset, limit } = page;
    const pgRanked = this.pg && sort === AdapterSort.Relevance && Boolean(filter.searchTerms?.length);
    if (tagLimit !== undefined) {
      const { total, ids, ...facets } = await this.facets(filter, tagLimit, pgRanked ? page : undefined);
      return { total, ...(ids ? { ids } : await this.pageIdsWithin(filter, page, total)), facets };
    }
    if (pgRanked || (this.pg && !filter.missing && this.searchAlone(filter) && SEARCH_TABLE_SORTS.has(sort))) {
      return this.pgPageWithTotal(filter, sort, order, offset, limit);
    }
    if (this.pgSummaries && this.unfiltered(filter) && offset < PG_STATE_COLUMNS_MAX_OFFSET) {
      // The whole library's first pages, the commonest list: page, row states and total in one statement (the page
      // walks the sort index and reads each row once; the total is computed once, beside it). The unfiltered plan
      // does not depend on the total, so it is not asked first; only a page past the end asks it alone. A first page
      // with no rows is an empty library in the statement's snapshot: its total is 0, not one counted a moment
      // later, after an import's batch may have committed (then a client saw "0 items of 1,500").
      const query = await this.pgFirstPagesQuery(filter, sort, order, offset, limit);
      // Prepared by name (`runPrepared`): with no parameters, planned once per connection.
      const { rows } = await runPrepared<PageRowOf & { total: unknown }>(this.dataSource, query.sql, query.values);
      if (rows.length > 0) return { total: toNumber(rows[0].total), ...pageRowsOf(rows) };
      return { total: offset === 0 ? 0 : await this.presentTotal(), ...pageRowsOf(rows) };
    }
    const total = await this.count(filter);
    return { total, ...(await this.pageIdsWithin(filter, page, total)) };
  }

  /**
   * PostgreSQL: the whole library's page statement with row states and total, its LIMIT and OFFSET written as
   * numbers, so that the statement, prepared by name (`runPrepared`), has no parameters and is planned once per
   * connection. With the two as
   * parameters, the server never took the generic plan (costed for an unknown limit, it always looked dearer than a
   * plan for LIMIT 50), so each request planned it again: 0.35–0.5 ms of the server's time, twice what running it
   * took. Past PG_LITERAL_PAGE_STATEMENTS texts (sorts × page sizes × offsets), pages take parameters again.
   */
  private async pgFirstPagesQuery(
    filter: AdapterFilter,
    sort: AdapterSort,
    order: SortOrder,
    offset: number,
    limit: number,
  ): Promise<{ sql: string; values: unknown[] }> {
    const literal = await this.pageQuery(filter, sort, order, offset, limit, Infinity, PG_ROW_STATE_COLUMNS, true);
    if (this.pgLiteralPages.has(literal.sql)) return literal;
    if (this.pgLiteralPages.size < PG_LITERAL_PAGE_STATEMENTS) {
      this.pgLiteralPages.add(literal.sql);
      return literal;
    }
    return this.pageQuery(filter, sort, order, offset, limit, Infinity, PG_ROW_STATE_COLUMNS);
  }

  private async pageIdsWithin(
    filter: AdapterFilter,
    { sort, order, offset, limit }: { sort: AdapterSort; order: SortOrder; offset: number; limit: number },
    total: number,
  ): Promise<PageRows> {
    if (offset >= total) return { ids: [] };
    const query = await this.pageQuery(filter, sort, order, offset, limit, total);
    if (!this.pgSummaries) return { ids: (await this.read<{ id: string }>(query.sql, query.values)).map((r) => r.id) };
    return pageRowsOf(await this.raw<PageRowOf>(`${pgPageRowsSql(query.sql)} ORDER BY p.n`, query.values));
  }

  /**
   * The statement of one page's ids, in order; a unique tie-break keeps pages stable: the id on PostgreSQL, the
   * rowid (the order rows were first written) on SQLite, where every sort index ends with it (`SORT_INDEXES`).
   * `total` (the filter's count) picks the plan on SQLite: walk the sort column's index and test each row while that
   * reads fewer rows than the matches, else collect the matches (driven by the full-text index when there is a
   * search) and sort them.
   */
  private async pageQuery(
    filter: AdapterFilter,
    sort: AdapterSort,
    order: SortOrder,
    offset: number,
    limit: number,
    total: number,
    /** More columns of the page's rows (`a`), for a plan that ends in the plain page statement. */
    columns = '',
    /** The plain page statement's LIMIT and OFFSET as numbers, not parameters (`pgFirstPagesQuery`). */
    literalPage = false,
  ): Promise<{ sql: string; values: unknown[] }> {
    const p = new Params(this.pg);
    const dir = order === SortOrder.Asc ? 'ASC' : 'DESC';
    const search = Boolean(filter.searchTerms?.length);
    let orderBy: string;
    let source: Source;
    if (sort === AdapterSort.Relevance && search && !this.pg && !filter.missing && this.conditionCount(filter) === 1) {
      // A search alone: rank inside the full-text index and join only the best rows, not every match. The inner
      // limit leaves room for tombstoned matches; both levels order by (rank, rowid), so pages never overlap.
      const tombstoned = await this.missingMatches(filter);
      const sql =
        `SELECT a.id AS id FROM (SELECT rowid, rank FROM adapters_fts WHERE adapters_fts MATCH ${p.add(fts5QueryOf(filter.searchTerms ?? []))} ` +
        `ORDER BY rank ${order === SortOrder.Desc ? 'ASC' : 'DESC'}, rowid ${dir} LIMIT ${p.add(offset + limit + tombstoned)}) f ` +
        `JOIN adapters a ON a.rowid = f.rowid WHERE a.missing_since IS NULL ` +
        `ORDER BY f.rank ${order === SortOrder.Desc ? 'ASC' : 'DESC'}, f.rowid ${dir} LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`;
      return { sql, values: p.values };
    }
    if (sort === AdapterSort.Relevance && search) {
      // SQLite only: PostgreSQL ranks in the pass that also counts (`listPage`).
      source = this.source(p, filter, 'filter', 'drive');
      // rank is bm25: lower is better, so "most relevant first" (desc) is ascending rank.
      orderBy = `adapters_fts.rank ${order === SortOrder.Desc ? 'ASC' : 'DESC'}, a.rowid ${dir}`;
    } else {
      const key = sort as Exclude<AdapterSort, AdapterSort.Relevance>;
      const nulls = nullsOf(sort, order);
      orderBy = `a.${SORT_COLUMNS[key]} ${dir}${nulls}, ${this.pg ? 'a.id' : 'a.rowid'} ${dir}`;
      // Rows an index walk reads to fill the page, against the rows the matches cost to collect. SQLite counts
      // a whole table from its smallest index at once. The sort indexes hold present adapters only: a tombstone
      // list is always collected and sorted.
      const walk =
        this.pg || filter.missing
          ? Infinity
          : ((offset + limit) * (await this.countOf({ tagMode: TagMode.Any, missing: false }, 'any'))) /
            Math.max(total, 1);
      if (walk < total) {
        source = this.source(p, filter, 'filter', 'test');
        source.from = `adapters a INDEXED BY ${SORT_INDEXES[key]}`;
      } else {
        source = this.source(p, filter, 'filter', search ? 'drive' : 'test');
      }
      if (this.pg && search && !filter.missing && (offset + limit) * (await this.presentTotal()) >= total * total) {
        // PostgreSQL misjudges how many rows a prefix tsquery matches and walks the sort index testing every row,
        // even for a search matching a few hundred. When the walk would read more rows than the matches (as the
        // SQLite plan above decides), collect the matches first (GIN index) and sort only them.
        const sql =
          `WITH m AS MATERIALIZED (SELECT a.id AS id, a.${SORT_COLUMNS[key]} AS k FROM ${source.from} WHERE ${source.where}) ` +
          `SELECT m.id AS id FROM m ORDER BY m.k ${dir}${nulls}, m.id ${dir} LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`;
        return { sql, values: p.values };
      }
    }
    const page = literalPage
      ? `LIMIT ${safeCount(limit)} OFFSET ${safeCount(offset)}`
      : `LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`;
    const sql = `SELECT a.id AS id${columns} FROM ${source.from} WHERE ${source.where} ORDER BY ${orderBy} ${page}`;
    return { sql, values: p.values };
  }

  /**
   * PostgreSQL, relevance order or a search alone sorted by a column `adapter_search` holds: the total and one page
   * from a single pass over the matches, because counting and then ranking or sorting would each visit every
   * match's heap page (a GIN index keeps no visibility, and tsquery matches are rechecked on the row). Column sorts
   * keep `pageIds`' order: the key, unrated last when descending, then the id.
   */
  private async pgPageWithTotal(
    filter: AdapterFilter,
    sort: AdapterSort,
    order: SortOrder,
    offset: number,
    limit: number,
  ): Promise<{ total: number; ids: string[] }> {
    const p = new Params(this.pg);
    const { from, where, table } = this.source(p, filter, 'filter', 'drive', false);
    const relevance = sort === AdapterSort.Relevance;
    const key = relevance ? this.pgRank(p, filter, table) : `${table}.${SORT_COLUMNS[sort]}`;
    const nulls = nullsOf(sort, order);
    const rows = await this.raw<{ total: unknown; ids: string[] | null }>(
      `WITH m AS MATERIALIZED (SELECT ${table}.id AS id, ${key} AS r FROM ${from} WHERE ${where}) ` +
        `SELECT (SELECT COUNT(*) FROM m) AS total, ARRAY(${this.pgRankedPage(p, order, offset, limit, '', nulls)})::text[] AS ids`,
      p.values,
    );
    return { total: toNumber(rows[0]?.total), ids: rows[0]?.ids ?? [] };
  }

  /** PostgreSQL: a match's relevance, from the stored vector of `table` (ranking does not re-tokenise the text). */
  private pgRank(p: Params, filter: AdapterFilter, table: Source['table']): string {
    return `ts_rank(${table}.search_vector, ${this.pgQuery(p, filter)})`;
  }

  /** PostgreSQL: the filter's search as a condition on the stored, GIN-indexed vector of `table`. */
  private pgMatch(p: Params, filter: AdapterFilter, table: Source['table']): string {
    return `${table}.search_vector @@ ${this.pgQuery(p, filter)}`;
  }

  /** PostgreSQL: the filter's search terms as a bound `tsquery`. */
  private pgQuery(p: Params, filter: AdapterFilter): string {
    return `to_tsquery('simple', ${p.add(tsQueryOf(filter.searchTerms ?? []))})`;
  }

  /**
   * PostgreSQL: one page of the CTE `m` (id, rank or sort key r), most relevant (or highest) first for `desc`,
   * ties by id; `nulls` places a nullable key's NULLs; `position` adds each row's place in the whole order as a
   * column of that name. The id stays a uuid here, and callers turn only the page's ids into text (a cast here
   * would run on every match before the top-N sort).
   */
  private pgRankedPage(
    p: Params,
    order: SortOrder,
    offset: number,
    limit: number,
    position: string,
    nulls = '',
  ): string {
    const by = `m.r ${order === SortOrder.Asc ? 'ASC' : 'DESC'}${nulls}, m.id ${order === SortOrder.Asc ? 'ASC' : 'DESC'}`;
    const at = position ? `, ROW_NUMBER() OVER (ORDER BY ${by}) AS ${position}` : '';
    return `SELECT m.id AS id${at} FROM m ORDER BY ${by} LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`;
  }

  /**
   * Refreshes the planner's statistics after a big import; on PostgreSQL a VACUUM also marks the pages
   * all-visible, so that counts read indexes alone (autovacuum does the same, later), after the appended
   * facet-count deltas are folded.
   */
  async refreshStatistics(): Promise<void> {
    if (this.pg) {
      await this.compactFacetCounts();
      await this.raw('VACUUM (ANALYZE) adapters, adapter_search, adapter_tags, adapter_facet_counts', []);
    } else {
      await this.raw('ANALYZE', []);
    }
  }

  /**
   * `refreshStatistics` after an import that changed `changed` rows, when they are a sizeable share of the index.
   * On SQLite the statistics describe proportions, which a small share hardly moves, while ANALYZE reads every
   * index (about a second at 100,000 adapters): run on every import, it slowed each one into a large index.
   * PostgreSQL always refreshes (its VACUUM also keeps counts on index-only scans).
   */
  async refreshStatisticsAfter(changed: number): Promise<boolean> {
    if (!this.pg) {
      const rows = await this.raw<{ n: number }>('SELECT COUNT(*) AS n FROM adapters', []);
      if (changed < STATISTICS_SHARE * Number(rows[0]?.n ?? 0)) return false;
    }
    await this.refreshStatistics();
    return true;
  }

  /**
   * List-page entities by id, in the order of `ids`: only the columns a list page shows (the big JSON columns,
   * header metadata, Civitai images, unmapped sidecar fields, cost far more to load than the query). One plain
   * statement, each value converted as TypeORM converts it (`prepareHydratedValue`), without `find`'s generic
   * query building and result mapping. The entities are read-only (on SQLite, frozen and shared while cached).
   */
  async findSummaries(ids: readonly string[]): Promise<AdapterEntity[]> {
    const byId = new Map((await this.readSummaries(ids, false)).map(({ entity }) => [entity.id, entity]));
    return ids.map((id) => byId.get(id)).filter((e): e is AdapterEntity => e !== undefined);
  }

  /** Summary entities of these ids, in no order; `withVersion` (PostgreSQL) adds each row's `xmin`. */
  private async readSummaries(
    ids: readonly string[],
    withVersion: boolean,
  ): Promise<{ entity: AdapterEntity; version?: string }[]> {
    if (ids.length === 0) return [];
    const metadata = this.dataSource.getMetadata(AdapterEntity);
    const columns = (this.summaryColumns ??= metadata.columns.filter((c) => SUMMARY_COLUMNS.has(c.propertyName)));
    const driver = this.dataSource.driver;
    const select =
      columns.map((c) => `a."${c.databaseName}"`).join(', ') + (withVersion ? ', a.xmin::text AS "xmin"' : '');
    const out: { entity: AdapterEntity; version?: string }[] = [];
    for (const part of chunk(ids, IN_CHUNK)) {
      const p = new Params(this.pg);
      const rows = await this.read<Record<string, unknown>>(
        `SELECT ${select} FROM adapters a WHERE a.id IN (${p.list(part)})`,
        p.values,
      );
      for (const row of rows) {
        let entity = this.hydratedRows.get(row);
        if (!entity) {
          entity = metadata.create() as AdapterEntity;
          for (const c of columns) c.setEntityValue(entity, driver.prepareHydratedValue(row[c.databaseName], c));
          if (this.readCache?.enabled) this.hydratedRows.set(row, frozenSummary(entity));
        }
        out.push({ entity, version: withVersion ? String(row.xmin) : undefined });
      }
    }
    return out;
  }

  /**
   * A list page's summaries (`findSummaries`) and which of them have a Civitai update (`idsWithUpdates`). On
   * PostgreSQL the page statement gave each row's version and update flag (else one narrow statement does), and
   * summaries are loaded only for the rows not kept at that version: a page of unchanged rows transfers and converts
   * three values a row, not forty.
   */
  async findPageSummaries(page: PageRows): Promise<{ items: AdapterEntity[]; withUpdates: Set<string> }> {
    const { ids } = page;
    const cache = this.pgSummaries;
    if (!cache || ids.length === 0) {
      return { items: await this.findSummaries(ids), withUpdates: await this.idsWithUpdates(ids) };
    }
    // The page statement gave the states, or (a facet or ranked page) this narrow one does.
    const states =
      page.states ??
      pageRowsOf(
        await this.raw<PageRowOf>(
          `SELECT a.id AS id, a.xmin::text AS v, ${PG_HAS_UPDATE} AS u FROM adapters a WHERE a.id = ANY($1::uuid[])`,
          [ids],
        ),
      ).states;
    // The page's entities are picked before any await: another request may evict from the cache meanwhile.
    const found = new Map<string, AdapterEntity>();
    const stale: string[] = [];
    for (const id of ids) {
      const state = states.get(id);
      if (!state) continue; // deleted since the page statement
      const kept = cache.get(id);
      if (kept?.version === state.version) found.set(id, kept.entity);
      else stale.push(id);
    }
    const fresh = stale.length > 0 ? await this.readSummaries(stale, true) : [];
    for (const id of stale) cache.delete(id);
    for (const { version, entity } of fresh) {
      const shared = frozenSummary(entity);
      found.set(entity.id, shared);
      cache.set(entity.id, { version: version!, entity: shared });
    }
    const items: AdapterEntity[] = [];
    for (const id of ids) {
      const entity = found.get(id);
      if (!entity) continue;
      items.push(entity);
      // Least recently used first out: a page's rows move to the end.
      const kept = cache.get(id);
      if (kept) {
        cache.delete(id);
        cache.set(id, kept);
      }
    }
    for (const id of cache.keys()) {
      if (cache.size <= this.pgSummaryLimit) break;
      cache.delete(id);
    }
    return { items, withUpdates: new Set(ids.filter((id) => states.get(id)?.hasUpdate)) };
  }

  /**
   * Which of these adapters have a newer Civitai version known for the version they are on (`civitai_updates`).
   * It runs on every list page: one plain statement a chunk, through the read cache on SQLite.
   */
  async idsWithUpdates(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const part of chunk(ids, IN_CHUNK)) {
      const p = new Params(this.pg);
      const rows = await this.read<{ id: string }>(
        `SELECT u.adapter_id AS id FROM civitai_updates u JOIN adapters a ON a.id = u.adapter_id ` +
          `AND a.civitai_version_id = u.version_id WHERE u.adapter_id IN (${p.list(part)}) AND u.has_update = ${p.add(true)}`,
        p.values,
      );
      for (const row of rows) found.add(row.id);
    }
    return found;
  }

  findById(id: string): Promise<AdapterEntity | null> {
    return this.dataSource.getRepository(AdapterEntity).findOneBy({ id });
  }

  /**
   * The base-model and tag facets of a filter, and its total (every adapter has exactly one base model, so the
   * base-model counts add up to it). One statement collects the counted rows once and groups them twice; the
   * tags come from each row's own `tags` list, which every write keeps equal to its `adapter_tags` rows.
   * (Separate statements would each run the match again and probe `adapter_tags` once per matched row.) A filter
   * that keeps most of the library is counted the other way round: the whole library's counts
   * (`adapter_facet_counts`) minus those of the present rows it leaves out, so the work follows the smaller side.
   */
  private async facets(
    filter: AdapterFilter,
    tagLimit: number,
    /** PostgreSQL searches only: rank this page in the same pass. */
    relevancePage?: { order: SortOrder; offset: number; limit: number },
  ): Promise<Required<AdapterFacets> & { total: number; ids?: string[] }> {
    if (this.unfiltered(filter)) {
      const baseModel = await this.baseModelCounts();
      return { total: baseModel.reduce((sum, b) => sum + b.count, 0), baseModel, tags: await this.tagCounts(tagLimit) };
    }
    const p = new Params(this.pg);
    const tagsOf = this.pg ? 'jsonb_array_elements_text(m.tags) AS j(value)' : 'json_each(m.tags) AS j';
    const grouped = (tagLimit?: string): string =>
      `SELECT 'base_model' AS facet, m.base_model AS value, COUNT(*) AS n FROM m GROUP BY m.base_model ` +
      `UNION ALL SELECT * FROM (SELECT 'tag' AS facet, j.value AS value, COUNT(*) AS n FROM m CROSS JOIN ${tagsOf} ` +
      `GROUP BY j.value${tagLimit ? ` ORDER BY n DESC, j.value ASC LIMIT ${tagLimit}` : ''}) t`;
    let sql: string;
    // A search is counted from its matches without asking its size first: the full-text index drives that
    // statement, and a term found in more than half of the library is rare (and only slower, never wrong).
    const search = Boolean(filter.searchTerms?.length);
    if (!filter.missing && !search && (await this.count(filter)) * 2 > (await this.presentTotal())) {
      // Present rows the filter leaves out: NOT of its conditions, where an unknown (NULL) counts as left out.
      const { where } = this.source(p, filter, 'any', 'test');
      sql =
        `WITH m AS MATERIALIZED (SELECT a.base_model AS base_model, a.tags AS tags FROM adapters a ` +
        `WHERE a.missing_since IS NULL AND (${where}) IS NOT TRUE), ` +
        `lib AS (SELECT c.facet AS facet, c.value AS value, SUM(c.n) AS n FROM adapter_facet_counts c GROUP BY c.facet, c.value), ` +
        `rest AS (${grouped()}), ` +
        `kept AS (SELECT lib.facet AS facet, lib.value AS value, lib.n - COALESCE(rest.n, 0) AS n FROM lib ` +
        `LEFT JOIN rest ON rest.facet = lib.facet AND rest.value = lib.value WHERE lib.n - COALESCE(rest.n, 0) > 0) ` +
        `SELECT * FROM kept WHERE kept.facet = 'base_model' ` +
        `UNION ALL SELECT * FROM (SELECT * FROM kept WHERE kept.facet = 'tag' ORDER BY n DESC, value ASC LIMIT ${p.add(tagLimit)}) t ` +
        `ORDER BY 1, 3 DESC, 2 ASC`;
    } else {
      const { from, where } = this.source(p, filter, 'filter', 'drive');
      // A relevance page (PostgreSQL) is ranked in the same pass (as `pgPageWithTotal` does), so the matches'
      // heap pages are visited once for the facets, the total and the page; a page row's count is its position.
      const rank = relevancePage ? `, ${this.pgRank(p, filter, 'a')} AS r, a.id AS id` : '';
      sql =
        `WITH m AS MATERIALIZED (SELECT a.base_model AS base_model, a.tags AS tags${rank} FROM ${from} WHERE ${where}) ` +
        grouped(p.add(tagLimit)) +
        (relevancePage
          ? ` UNION ALL SELECT 'page' AS facet, pg.id::text AS value, pg.at AS n FROM (${this.pgRankedPage(p, relevancePage.order, relevancePage.offset, relevancePage.limit, 'at')}) pg`
          : '') +
        ` ORDER BY 1, 3 DESC, 2 ASC`;
    }
    const rows = await this.read<{ facet: string; value: string; n: unknown }>(sql, p.values);
    const out: Required<AdapterFacets> & { total: number; ids?: string[] } = { total: 0, baseModel: [], tags: [] };
    const page: { id: string; at: number }[] = [];
    for (const r of rows) {
      const count = toNumber(r.n);
      if (r.facet === 'tag') out.tags.push({ value: r.value, count });
      else if (r.facet === 'page') page.push({ id: r.value, at: count });
      else {
        out.baseModel.push({ value: r.value, count });
        out.total += count;
      }
    }
    if (relevancePage) out.ids = page.sort((x, y) => x.at - y.at).map((x) => x.id);
    return out;
  }

  /** Tags of present adapters with their counts, most used first; optionally only tags starting with `prefix`. */
  tagCounts(limit: number, prefix?: string): Promise<ValueCount[]> {
    return this.facetCounts('tag', limit, prefix);
  }

  baseModelCounts(): Promise<ValueCount[]> {
    return this.facetCounts('base_model');
  }

  /**
   * SHA-256 values that two or more present adapters carry, most members first. `verified` (every member's hash
   * computed from its bytes) tells a proven duplicate from one that rests on a sidecar's claim; `verifiedOnly`
   * counts computed hashes alone.
   */
  async duplicateHashes(
    offset: number,
    limit: number,
    verifiedOnly: boolean,
  ): Promise<{ total: number; groups: { sha256: string; count: number; verified: boolean }[] }> {
    const allVerified = this.pg ? 'bool_and(a.sha256_verified)' : 'MIN(a.sha256_verified)';
    const onlyVerified = verifiedOnly ? ` AND a.sha256_verified = ${this.pg ? 'true' : '1'}` : '';
    const base = `SELECT a.sha256 AS sha256, COUNT(*) AS n, ${allVerified} AS verified FROM adapters a WHERE a.sha256 IS NOT NULL AND a.missing_since IS NULL${onlyVerified} GROUP BY a.sha256 HAVING COUNT(*) >= 2`;
    const totalRows = await this.raw<{ n: unknown }>(`SELECT COUNT(*) AS n FROM (${base}) d`, []);
    const p = new Params(this.pg);
    const rows = await this.raw<{ sha256: string; n: unknown; verified: unknown }>(
      `${base} ORDER BY n DESC, a.sha256 ASC LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`,
      p.values,
    );
    return {
      total: toNumber(totalRows[0]?.n),
      groups: rows.map((r) => ({
        sha256: r.sha256,
        count: toNumber(r.n),
        verified: r.verified === true || toNumber(r.verified) === 1,
      })),
    };
  }

  /** Present adapters carrying one of these hashes (computed ones only with `verifiedOnly`), oldest first within a hash. */
  async findPresentBySha256(hashes: readonly string[], verifiedOnly: boolean): Promise<AdapterEntity[]> {
    if (hashes.length === 0) return [];
    const query = this.dataSource
      .getRepository(AdapterEntity)
      .createQueryBuilder('a')
      .where('a.sha256 IN (:...hashes)', { hashes })
      .andWhere('a.missingSince IS NULL');
    if (verifiedOnly) query.andWhere('a.sha256Verified = :verified', { verified: true });
    return query.orderBy('a.createdAt', 'ASC').addOrderBy('a.id', 'ASC').getMany();
  }

  /** A search and nothing else. */
  private searchAlone(f: AdapterFilter): boolean {
    return Boolean(f.searchTerms?.length) && this.conditionCount(f) === 1;
  }

  /** No condition but presence: the facets of the whole library. */
  private unfiltered(f: AdapterFilter): boolean {
    return !f.missing && this.conditionCount(f) === 0;
  }

  /**
   * A filter an index counts without reading adapter rows, and so without knowing which are tombstoned: none,
   * one tag, base models alone, the warnings flag alone, and on SQLite a search alone. On PostgreSQL a search
   * alone is counted in `adapter_search`, which holds each adapter's presence (`source`).
   */
  private presenceBlind(f: AdapterFilter): boolean {
    const n = this.conditionCount(f);
    if (n === 0) return true;
    if (n > 1) return false;
    return Boolean(
      (f.searchTerms?.length && !this.pg) ||
      f.tags?.length === 1 ||
      f.baseModels?.length ||
      f.hasWarnings !== undefined,
    );
  }

  private conditionCount(f: AdapterFilter): number {
    return [
      f.searchTerms?.length,
      f.baseModels?.length,
      f.modelTypes?.length,
      f.tags?.length,
      f.nsfwMax !== undefined,
      f.active !== undefined,
      f.favorite !== undefined,
      f.hasPreview !== undefined,
      f.hasWarnings !== undefined,
      f.hasUpdate !== undefined,
      f.civitaiModelId !== undefined,
      f.rootId !== undefined,
      f.folder,
    ].filter(Boolean).length;
  }

  /** Tombstoned adapters matching the filter, counted once per filter object (one request uses it twice). */
  private missingMatches(f: AdapterFilter): Promise<number> {
    let count = this.missingCounts.get(f);
    if (!count) {
      count = this.countOf(f, 'missing');
      this.missingCounts.set(f, count);
    }
    return count;
  }

  private async countOf(f: AdapterFilter, presence: Presence): Promise<number> {
    const p = new Params(this.pg);
    let sql: string;
    const others = this.conditionCount(f);
    if (presence === 'any' && others === 1 && f.searchTerms?.length && !this.pg) {
      // The FTS index holds one row per adapter row (kept in step by triggers).
      sql = `SELECT COUNT(*) AS n FROM adapters_fts WHERE adapters_fts MATCH ${p.add(fts5QueryOf(f.searchTerms))}`;
    } else if (presence === 'missing' && others === 1 && f.searchTerms?.length && !this.pg) {
      // The tombstones' own small index (migration 1764300000800) counts their matches without the others'.
      sql = `SELECT COUNT(*) AS n FROM adapters_fts_missing WHERE adapters_fts_missing MATCH ${p.add(fts5QueryOf(f.searchTerms))}`;
    } else if (presence === 'any' && others === 1 && f.tags?.length === 1) {
      sql = `SELECT COUNT(*) AS n FROM adapter_tags t WHERE t.tag = ${p.add(f.tags[0])}`;
    } else {
      const { from, where } = this.source(p, f, presence, presence === 'missing' ? 'test' : 'drive', false);
      // No WHERE at all lets SQLite count the table from its smallest index.
      sql = `SELECT COUNT(*) AS n FROM ${from}${where === NO_CONDITION ? '' : ` WHERE ${where}`}`;
    }
    const rows = await this.read<{ n: unknown }>(sql, p.values);
    return toNumber(rows[0]?.n);
  }

  /**
   * FROM and WHERE of a filter. With a search on SQLite, `drive` makes the FTS matches the outer loop (each
   * match costs one rowid lookup; a search matches few rows); `test` checks membership row by row instead,
   * for plans that walk another index. Tombstone-only statements start from the `missing_since` index.
   * On PostgreSQL, a search alone over present or all adapters reads the narrow `adapter_search` table
   * (migration 1764300000900) instead, unless the caller needs the adapter row (`needsRow`).
   */
  private source(p: Params, f: AdapterFilter, presence: Presence, search: 'drive' | 'test', needsRow = true): Source {
    if (this.pg && !needsRow && !f.missing && presence !== 'missing' && this.searchAlone(f)) {
      const match = this.pgMatch(p, f, 's');
      return {
        from: 'adapter_search s',
        where: presence === 'filter' ? `s.present AND ${match}` : match,
        ftsDriven: false,
        table: 's',
      };
    }
    const driven = !this.pg && search === 'drive' && presence !== 'missing' && Boolean(f.searchTerms?.length);
    let from = 'adapters a';
    if (driven) from = 'adapters_fts CROSS JOIN adapters a ON a.rowid = adapters_fts.rowid';
    else if (presence === 'missing' && !this.pg) from = 'adapters a INDEXED BY idx_adapters_missing';
    // Tags: probed per row when rows come from elsewhere (FTS matches, an index walk, tombstones); otherwise an
    // IN list the planner may drive from.
    const probeTags = driven || search === 'test' || presence === 'missing';
    return { from, where: this.where(p, f, presence, driven, probeTags), ftsDriven: driven, table: 'a' };
  }

  /** The WHERE clause of a filter; `ftsDriven`: the FROM joins the FTS table, so the search is its MATCH. */
  private where(p: Params, f: AdapterFilter, presence: Presence, ftsDriven: boolean, probeTags: boolean): string {
    const c: string[] = [];
    if (presence === 'missing' || (presence === 'filter' && f.missing)) c.push('a.missing_since IS NOT NULL');
    else if (presence === 'filter') c.push('a.missing_since IS NULL');
    if (f.searchTerms?.length) {
      if (this.pg) {
        // `search_vector` = to_tsvector('simple', search_text), stored and GIN-indexed (idx_adapters_search_vector).
        c.push(this.pgMatch(p, f, 'a'));
      } else if (ftsDriven) {
        c.push(`adapters_fts MATCH ${p.add(fts5QueryOf(f.searchTerms))}`);
      } else {
        c.push(
          `a.rowid IN (SELECT rowid FROM adapters_fts WHERE adapters_fts MATCH ${p.add(fts5QueryOf(f.searchTerms))})`,
        );
      }
    }
    if (f.baseModels?.length) c.push(`a.base_model IN (${p.list(f.baseModels)})`);
    if (f.modelTypes?.length) c.push(`a.model_type IN (${p.list(f.modelTypes)})`);
    if (f.tags?.length) {
      const tags = p.list(f.tags);
      const all = f.tagMode === TagMode.All && f.tags.length > 1;
      if (probeTags) {
        // Correlated on the (adapter_id, tag) primary key: one probe per tested row.
        c.push(
          all
            ? `(SELECT COUNT(*) FROM adapter_tags t WHERE t.adapter_id = a.id AND t.tag IN (${tags})) = ${p.add(f.tags.length)}`
            : `EXISTS (SELECT 1 FROM adapter_tags t WHERE t.adapter_id = a.id AND t.tag IN (${tags}))`,
        );
      } else {
        c.push(
          all
            ? `a.id IN (SELECT t.adapter_id FROM adapter_tags t WHERE t.tag IN (${tags}) GROUP BY t.adapter_id HAVING COUNT(*) = ${p.add(f.tags.length)})`
            : `a.id IN (SELECT t.adapter_id FROM adapter_tags t WHERE t.tag IN (${tags}))`,
        );
      }
    }
    if (f.nsfwMax !== undefined) c.push(`a.nsfw_max <= ${p.add(f.nsfwMax)}`);
    if (f.active !== undefined) c.push(`a.active = ${p.add(f.active)}`);
    if (f.favorite !== undefined) c.push(`a.favorite = ${p.add(f.favorite)}`);
    if (f.hasPreview !== undefined) c.push(`a.has_preview = ${p.add(f.hasPreview)}`);
    if (f.hasWarnings !== undefined) c.push(`a.has_warnings = ${p.add(f.hasWarnings)}`);
    if (f.hasUpdate !== undefined) {
      // A check's answer counts while the adapter is still on the version it was checked for (civitai-updates.ts).
      c.push(
        `${f.hasUpdate ? '' : 'NOT '}EXISTS (SELECT 1 FROM civitai_updates u WHERE u.adapter_id = a.id AND u.has_update = ${p.add(true)} AND u.version_id = a.civitai_version_id)`,
      );
    }
    if (f.civitaiModelId !== undefined) c.push(`a.civitai_model_id = ${p.add(f.civitaiModelId)}`);
    if (f.rootId !== undefined) c.push(`a.root_id = ${p.add(f.rootId)}`);
    if (f.folder) c.push(this.folderOrBelow(p, f.folder));
    return c.length ? c.join(' AND ') : NO_CONDITION;
  }

  /**
   * The folder or anything under it, as one range of `idx_adapters_folder_prefix`, `X <= folder < X0` ('0' is the
   * byte after '/'), narrowed to `X` and `X/…` inside the index, in byte order ("C" collation on PostgreSQL,
   * SQLite's BINARY). Two ranges (`= X OR X/ <= folder < X0`) made SQLite fetch every matching row to count them.
   */
  private folderOrBelow(p: Params, folder: string): string {
    const column = this.pg ? 'a.folder COLLATE "C"' : 'a.folder';
    // One placeholder per use, in order: SQLite's `?` are positional.
    const range = `${column} >= ${p.add(folder)} AND ${column} < ${p.add(`${folder}0`)}`;
    return `(${range} AND (${column} = ${p.add(folder)} OR ${column} >= ${p.add(`${folder}/`)}))`;
  }

  /** An index-friendly prefix test without LIKE wildcards (user text never becomes a pattern). */
  private startsWith(p: Params, column: string, prefix: string): string {
    if (this.pg) return `starts_with(${column}, ${p.add(prefix)})`;
    // SQLite compares text bytewise (BINARY): every string with this prefix lies in [prefix, prefix + U+10FFFF).
    return `(${column} >= ${p.add(prefix)} AND ${column} < ${p.add(`${prefix}\u{10FFFF}`)})`;
  }

  /**
   * Whole-library counts of present adapters from `adapter_facet_counts` (migration 1764300000700), which
   * triggers keep exact: a value's count is the sum of its rows (one row a value on SQLite; appended deltas on
   * PostgreSQL, folded by `compactFacetCounts` once they outnumber the values).
   */
  private async facetCounts(facet: 'tag' | 'base_model', limit?: number, prefix?: string): Promise<ValueCount[]> {
    const p = new Params(this.pg);
    const conditions = [`c.facet = ${p.add(facet)}`];
    if (prefix) conditions.push(this.startsWith(p, 'c.value', prefix));
    const deltas = this.pg ? ', SUM(COUNT(*)) OVER () AS deltas, COUNT(*) OVER () AS "values"' : '';
    const rows = await this.raw<{ value: string; n: unknown; deltas?: unknown; values?: unknown }>(
      `SELECT c.value AS value, SUM(c.n) AS n${deltas} FROM adapter_facet_counts c WHERE ${conditions.join(' AND ')} GROUP BY c.value HAVING SUM(c.n) > 0 ORDER BY 2 DESC, 1 ASC${limit === undefined ? '' : ` LIMIT ${p.add(limit)}`}`,
      p.values,
    );
    if (this.pg && rows.length > 0 && toNumber(rows[0].deltas) > 2 * toNumber(rows[0].values) + COMPACT_SLACK) {
      this.compacting ??= this.compactFacetCounts()
        .catch(() => undefined)
        .finally(() => (this.compacting = undefined));
    }
    return rows.map((r) => ({ value: r.value, count: toNumber(r.n) }));
  }

  /**
   * PostgreSQL: folds the appended count deltas into one row per value. Exact under concurrent writers: it
   * deletes only the rows its snapshot sees and re-inserts their sums in the same transaction; one process at
   * a time (a transaction-scoped advisory lock; the others skip).
   */
  async compactFacetCounts(): Promise<void> {
    if (!this.pg) return;
    await this.dataSource.transaction(async (m) => {
      const [lock] = await m.query<{ locked: boolean }[]>(
        `SELECT pg_try_advisory_xact_lock(hashtext('adapter_facet_counts')) AS locked`,
      );
      if (!lock?.locked) return;
      await m.query(
        `WITH d AS (DELETE FROM adapter_facet_counts RETURNING facet, value, n) INSERT INTO adapter_facet_counts (facet, value, n) SELECT d.facet, d.value, SUM(d.n) FROM d GROUP BY d.facet, d.value HAVING SUM(d.n) <> 0`,
      );
    });
  }

  private async raw<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.dataSource.query<T[]>(sql, params);
  }

  /** A read statement of the list path: on SQLite through the read cache, which keeps rows until the next write. */
  private read<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.readCache ? this.readCache.read<T>(sql, params) : this.raw<T>(sql, params);
  }
}
