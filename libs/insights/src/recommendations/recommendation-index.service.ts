import { Injectable, Logger } from '@nestjs/common';
import { RecommendationsRepository, type IndexedAdapterRow } from './recommendations.repository.js';
import { type SimilarityIndex, SimilarityModel } from './similarity-index.js';

/** Rows read per page by a rebuild. */
const PAGE = 2000;
/**
 * Changes are read again for this long after they were first seen: an import's transaction may commit rows stamped
 * a little before rows this process has already read.
 */
const CHANGE_OVERLAP_MS = 2000;
/** Changed rows applied per query; a bigger backlog is applied over the next queries. */
const CHANGES_PER_REFRESH = 5000;

/** What this process's index holds. */
export interface LocalIndexStats {
  model: string;
  /** The stored version this index was built for (0: no rebuild job has run yet). */
  version: number;
  documents: number;
  terms: number;
  builtAt: Date;
  buildMs: number;
}

export type BuildProgress = (done: number, total: number) => Promise<void>;

/**
 * This process's recommendation index. Every process builds its own from the database and keeps it current on each
 * use: adapters changed since it last looked (imports, edits, tombstones, Civitai merges all stamp `updated_at`)
 * are re-indexed, and a newer stored version (a finished `recommendations.rebuild` job) makes it rebuild. So API
 * instances in scale-out agree without a shared cache, and deleted or tombstoned adapters are dropped when read.
 */
@Injectable()
export class RecommendationIndexService {
  private readonly logger = new Logger(RecommendationIndexService.name);
  private index: SimilarityIndex | null = null;
  private local: LocalIndexStats | null = null;
  private watermark = new Date(0);
  private readonly stamps = new Map<string, number>();
  private refreshing: Promise<SimilarityIndex> | null = null;

  constructor(
    private readonly repository: RecommendationsRepository,
    private readonly model: SimilarityModel,
  ) {}

  /** The index, built when this process has none or an older version than stored, with recent changes applied. */
  async current(): Promise<SimilarityIndex> {
    // One refresh at a time; callers that arrive meanwhile share it.
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  stats(): LocalIndexStats | null {
    return this.local;
  }

  /** Builds a new index from every present adapter and swaps it in; queries use the old one meanwhile. */
  async rebuild(version: number, progress?: BuildProgress): Promise<LocalIndexStats> {
    const started = performance.now();
    const startedAt = new Date();
    const index = this.model.createIndex();
    const stamps = new Map<string, number>();
    const total = await this.repository.countPresent();
    let done = 0;
    let afterId: string | null = null;
    for (;;) {
      const rows: IndexedAdapterRow[] = await this.repository.textPage(afterId, PAGE);
      if (rows.length === 0) break;
      for (const row of rows) {
        index.upsert(row);
        stamps.set(row.id, row.updatedAt.getTime());
      }
      afterId = rows[rows.length - 1].id;
      done += rows.length;
      await progress?.(done, Math.max(total, done));
    }
    this.index = index;
    this.stamps.clear();
    for (const [id, at] of stamps) this.stamps.set(id, at);
    // Changes made while the pages were read are applied on the next use.
    this.watermark = new Date(startedAt.getTime() - CHANGE_OVERLAP_MS);
    this.local = {
      model: this.model.name,
      version,
      ...index.stats(),
      builtAt: new Date(),
      buildMs: Math.round(performance.now() - started),
    };
    this.logger.log(
      `Index v${version}: ${this.local.documents} adapters, ${this.local.terms} terms, ${this.local.buildMs} ms`,
    );
    return this.local;
  }

  private async refresh(): Promise<SimilarityIndex> {
    const stored = (await this.repository.state())?.version ?? 0;
    if (this.index === null || this.local === null || this.local.version < stored) {
      await this.rebuild(stored);
    } else {
      await this.applyChanges();
    }
    return this.index!;
  }

  private async applyChanges(): Promise<void> {
    const rows = await this.repository.changedSince(this.watermark, CHANGES_PER_REFRESH);
    let latest = this.watermark.getTime();
    for (const row of rows) {
      const at = row.updatedAt.getTime();
      latest = Math.max(latest, at);
      if (this.stamps.get(row.id) === at) continue;
      this.index!.upsert(row);
      this.stamps.set(row.id, at);
    }
    const next = rows.length === CHANGES_PER_REFRESH ? latest : latest - CHANGE_OVERLAP_MS;
    if (next > this.watermark.getTime()) this.watermark = new Date(next);
    if (this.local) Object.assign(this.local, this.index!.stats());
  }

  /** Drops an adapter this process found tombstoned or deleted while answering. */
  forget(id: string): void {
    this.index?.remove(id);
    this.stamps.delete(id);
  }
}
