import type { AdapterText } from './text-analysis.js';

/** One adapter an index found: `score` in 0..1 (1 = as close as it gets), and the terms that matched. */
export interface TextHit {
  id: string;
  score: number;
  terms: string[];
}

export interface IndexSearchOptions {
  limit: number;
  /** Only adapters of base models this accepts. */
  accept?: (baseModel: string) => boolean;
}

/**
 * The text model of the recommender: a searchable set of adapter texts. The default is lexical (BM25 over the
 * adapter's words, in memory, no download); an embedding model can implement the same port without changing
 * callers. An index holds the adapters of one process; `RecommendationIndexService` keeps it current.
 */
export abstract class SimilarityIndex {
  abstract upsert(doc: AdapterText): void;
  abstract remove(id: string): void;
  abstract has(id: string): boolean;
  /** Adapters whose text resembles this indexed adapter's, itself excluded. */
  abstract similarTo(id: string, options: IndexSearchOptions): TextHit[];
  /** Adapters whose words a free text (a prompt) uses; a whole trigger phrase counts more than its words. */
  abstract search(text: string, options: IndexSearchOptions): TextHit[];
  /** Adapters with this trigger word: exact phrase first (score 1), then phrases containing it. */
  abstract byTrigger(word: string, options: IndexSearchOptions): TextHit[];
  abstract stats(): { documents: number; terms: number };
}

/** Makes empty indexes: the one place a deployment chooses its text model. */
export abstract class SimilarityModel {
  /** Shown in the index stats, e.g. `lexical-bm25`. */
  abstract readonly name: string;
  abstract createIndex(): SimilarityIndex;
}
