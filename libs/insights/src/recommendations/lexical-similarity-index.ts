import { Injectable } from '@nestjs/common';
import { type IndexSearchOptions, SimilarityIndex, SimilarityModel, type TextHit } from './similarity-index.js';
import {
  type AdapterText,
  adapterTerms,
  normalisePhrase,
  promptText,
  tokenize,
  triggerPhrases,
} from './text-analysis.js';

const K1 = 1.2;
const B = 0.75;
/** Terms of an adapter that make up its "similar" query: its most telling ones. */
const SIMILAR_QUERY_TERMS = 32;
/** A prompt's whole trigger phrase counts this much more than its words do. */
const PHRASE_BONUS = 2;
/** Longest trigger phrase (in words) looked for in a prompt. */
const MAX_PHRASE_WORDS = 5;
/** Libraries smaller than this keep their common words in "similar" queries. */
const MIN_LIBRARY_FOR_COMMON = 20;
/** Matched terms reported per hit. */
const MAX_TERMS = 8;

interface IndexedDoc {
  id: string;
  baseModel: string;
  /** Sorted terms and their weighted frequencies, aligned. */
  terms: string[];
  tfs: number[];
  length: number;
  phrases: string[];
}

interface Postings {
  docs: number[];
  tfs: number[];
}

/** BM25 over adapter texts in memory: postings per term, documents numbered densely. */
export class LexicalSimilarityIndex extends SimilarityIndex {
  private readonly docs: (IndexedDoc | undefined)[] = [];
  private readonly numbers = new Map<string, number>();
  private readonly postings = new Map<string, Postings>();
  private readonly phrases = new Map<string, number[]>();
  private totalLength = 0;
  private scores = new Float64Array(0);
  /** Each document's length by number, beside `docs`: the scoring loop reads it for every posting. */
  private lengths = new Float64Array(0);
  private norms = new Float64Array(0);
  private normsAverage = Number.NaN;

  upsert(text: AdapterText): void {
    this.remove(text.id);
    const weighted = adapterTerms(text);
    const terms = [...weighted.keys()].sort();
    const tfs = terms.map((t) => weighted.get(t) ?? 0);
    const doc: IndexedDoc = {
      id: text.id,
      baseModel: text.baseModel,
      terms,
      tfs,
      length: tfs.reduce((a, b) => a + b, 0),
      phrases: triggerPhrases(text),
    };
    const n = this.docs.length;
    this.docs.push(doc);
    if (this.lengths.length < this.docs.length) {
      const grown = new Float64Array(Math.max(1024, this.lengths.length * 2));
      grown.set(this.lengths);
      this.lengths = grown;
    }
    this.lengths[n] = doc.length;
    this.normsAverage = Number.NaN;
    this.numbers.set(doc.id, n);
    this.totalLength += doc.length;
    for (const [i, term] of terms.entries()) {
      let list = this.postings.get(term);
      if (!list) this.postings.set(term, (list = { docs: [], tfs: [] }));
      list.docs.push(n);
      list.tfs.push(tfs[i]);
    }
    for (const phrase of doc.phrases) {
      const list = this.phrases.get(phrase);
      if (list) list.push(n);
      else this.phrases.set(phrase, [n]);
    }
  }

  remove(id: string): void {
    const n = this.numbers.get(id);
    if (n === undefined) return;
    const doc = this.docs[n]!;
    for (const term of doc.terms) {
      const list = this.postings.get(term)!;
      const at = list.docs.indexOf(n);
      list.docs.splice(at, 1);
      list.tfs.splice(at, 1);
      if (list.docs.length === 0) this.postings.delete(term);
    }
    for (const phrase of doc.phrases) {
      const list = this.phrases.get(phrase)!;
      list.splice(list.indexOf(n), 1);
      if (list.length === 0) this.phrases.delete(phrase);
    }
    this.totalLength -= doc.length;
    this.normsAverage = Number.NaN;
    this.docs[n] = undefined;
    this.numbers.delete(id);
  }

  has(id: string): boolean {
    return this.numbers.has(id);
  }

  stats(): { documents: number; terms: number } {
    return { documents: this.numbers.size, terms: this.postings.size };
  }

  similarTo(id: string, options: IndexSearchOptions): TextHit[] {
    const n = this.numbers.get(id);
    if (n === undefined) return [];
    const doc = this.docs[n]!;
    const count = this.numbers.size;
    // The adapter's most telling terms; in a large library, words in over half of it tell nothing.
    const query = doc.terms
      .map((term, i) => ({ term, tf: doc.tfs[i], telling: doc.tfs[i] * this.idf(term) }))
      .filter((q) => count < MIN_LIBRARY_FOR_COMMON || (this.postings.get(q.term)?.docs.length ?? 0) <= count / 2)
      .sort((a, b) => b.telling - a.telling)
      .slice(0, SIMILAR_QUERY_TERMS)
      .map((q) => ({ term: q.term, weight: q.tf }));
    const self = this.scoreOf(doc, query);
    if (self <= 0) return [];
    const hits = this.rank(query, options, n);
    return hits.map((hit) => ({ ...hit, score: Math.min(1, hit.score / self) }));
  }

  search(text: string, options: IndexSearchOptions): TextHit[] {
    const cleaned = promptText(text);
    const words = [...new Set(tokenize(cleaned))];
    const query = words.map((term) => ({ term, weight: 1 }));
    const phraseHits = this.phrasesIn(cleaned);
    const hits = this.rank(query, { ...options, limit: options.limit * 2 }, -1, phraseHits);
    const best = hits[0]?.score ?? 0;
    return hits.slice(0, options.limit).map((hit) => ({ ...hit, score: best > 0 ? hit.score / best : 0 }));
  }

  byTrigger(word: string, options: IndexSearchOptions): TextHit[] {
    const phrase = normalisePhrase(word);
    if (!phrase) return [];
    const hits: TextHit[] = [];
    const seen = new Set<number>();
    const take = (numbers: readonly number[], score: number, matched: string): void => {
      for (const n of numbers) {
        const doc = this.docs[n]!;
        if (seen.has(n) || (options.accept && !options.accept(doc.baseModel))) continue;
        seen.add(n);
        hits.push({ id: doc.id, score, terms: [matched] });
      }
    };
    take(this.phrases.get(phrase) ?? [], 1, phrase);
    if (hits.length < options.limit) {
      const padded = ` ${phrase} `;
      for (const [other, numbers] of this.phrases) {
        if (hits.length >= options.limit) break;
        if (other !== phrase && ` ${other} `.includes(padded)) take(numbers, 0.5, other);
      }
    }
    return hits.slice(0, options.limit);
  }

  private idf(term: string): number {
    const df = this.postings.get(term)?.docs.length ?? 0;
    const count = this.numbers.size;
    return Math.log(1 + (count - df + 0.5) / (df + 0.5));
  }

  /**
   * `k1 (1 - b + b · length / average)` per document, the part of BM25 that depends on the document alone; computed
   * again after an upsert or a removal, not for every posting of every query.
   */
  private lengthNorms(): Float64Array {
    const average = this.totalLength / Math.max(1, this.numbers.size);
    if (this.normsAverage !== average || this.norms.length !== this.lengths.length) {
      this.norms = new Float64Array(this.lengths.length);
      for (let n = 0; n < this.docs.length; n++) this.norms[n] = K1 * (1 - B + (B * this.lengths[n]) / average);
      this.normsAverage = average;
    }
    return this.norms;
  }

  private termScore(tf: number, length: number, idf: number, average: number): number {
    return (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * length) / average));
  }

  private scoreOf(doc: IndexedDoc, query: { term: string; weight: number }[]): number {
    const average = this.totalLength / Math.max(1, this.numbers.size);
    let score = 0;
    for (const q of query) {
      const i = doc.terms.indexOf(q.term);
      if (i >= 0) score += q.weight * this.termScore(doc.tfs[i], doc.length, this.idf(q.term), average);
    }
    return score;
  }

  /** The trigger phrases (of any adapter) a text contains, with the adapters that have them. */
  private phrasesIn(text: string): Map<number, string[]> {
    const words = normalisePhrase(text).split(' ');
    const found = new Map<number, string[]>();
    for (let start = 0; start < words.length; start++) {
      for (let len = 1; len <= MAX_PHRASE_WORDS && start + len <= words.length; len++) {
        const phrase = words.slice(start, start + len).join(' ');
        for (const n of this.phrases.get(phrase) ?? []) {
          const list = found.get(n);
          if (!list) found.set(n, [phrase]);
          else if (!list.includes(phrase)) list.push(phrase);
        }
      }
    }
    return found;
  }

  private rank(
    query: { term: string; weight: number }[],
    options: IndexSearchOptions,
    exclude: number,
    phraseHits = new Map<number, string[]>(),
  ): TextHit[] {
    if (this.scores.length < this.docs.length) this.scores = new Float64Array(this.docs.length * 2);
    const scores = this.scores;
    const norms = this.lengthNorms();
    const touched: number[] = [];
    for (const q of query) {
      const list = this.postings.get(q.term);
      if (!list) continue;
      // BM25 term score, inlined: weight · idf · tf (k1 + 1) / (tf + norm).
      const factor = q.weight * this.idf(q.term) * (K1 + 1);
      const { docs, tfs } = list;
      for (let i = 0; i < docs.length; i++) {
        const n = docs[i];
        if (scores[n] === 0) touched.push(n);
        scores[n] += (factor * tfs[i]) / (tfs[i] + norms[n]);
      }
    }
    for (const [n, phrases] of phraseHits) {
      if (scores[n] === 0) touched.push(n);
      scores[n] += PHRASE_BONUS * phrases.reduce((sum, p) => sum + p.split(' ').length, 0);
    }
    // A common word touches most of the library: keep the best `limit` in a heap rather than sort every hit.
    const best = new TopHits(options.limit);
    const accepted = new Map<string, boolean>();
    for (const n of touched) {
      const score = scores[n];
      scores[n] = 0;
      if (n === exclude || !best.admits(n, score)) continue;
      if (options.accept) {
        const baseModel = this.docs[n]!.baseModel;
        let ok = accepted.get(baseModel);
        if (ok === undefined) accepted.set(baseModel, (ok = options.accept(baseModel)));
        if (!ok) continue;
      }
      best.add(n, score);
    }
    return best.sorted().map(({ n, score }) => {
      const doc = this.docs[n]!;
      const matched = [...(phraseHits.get(n) ?? [])];
      for (const q of query) {
        if (matched.length >= MAX_TERMS) break;
        if (!matched.includes(q.term) && binaryHas(doc.terms, q.term)) matched.push(q.term);
      }
      return { id: doc.id, score, terms: matched };
    });
  }
}

/** The `size` best (score, then lower number) hits seen: a min-heap whose root is the worst one kept. */
class TopHits {
  private readonly ns: Int32Array;
  private readonly scores: Float64Array;
  private count = 0;

  constructor(private readonly size: number) {
    this.ns = new Int32Array(Math.max(1, size));
    this.scores = new Float64Array(Math.max(1, size));
  }

  /** Whether a hit would be kept: there is room, or it beats the worst one kept. */
  admits(n: number, score: number): boolean {
    if (this.size <= 0) return false;
    return this.count < this.size || this.better(n, score, 0);
  }

  add(n: number, score: number): void {
    if (this.count < this.size) {
      let at = this.count++;
      while (at > 0) {
        const up = (at - 1) >> 1;
        if (!this.better(this.ns[up], this.scores[up], at, n, score)) break;
        this.ns[at] = this.ns[up];
        this.scores[at] = this.scores[up];
        at = up;
      }
      this.ns[at] = n;
      this.scores[at] = score;
      return;
    }
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= this.count) break;
      if (child + 1 < this.count && this.better(this.ns[child], this.scores[child], child + 1)) child++;
      if (!this.better(n, score, child)) break;
      this.ns[at] = this.ns[child];
      this.scores[at] = this.scores[child];
      at = child;
    }
    this.ns[at] = n;
    this.scores[at] = score;
  }

  sorted(): { n: number; score: number }[] {
    const hits = Array.from({ length: this.count }, (_, i) => ({ n: this.ns[i], score: this.scores[i] }));
    return hits.sort((a, b) => b.score - a.score || a.n - b.n);
  }

  /** Whether (n, score) ranks above the hit at `at` (or above (otherN, otherScore) when given). */
  private better(n: number, score: number, at: number, otherN = this.ns[at], otherScore = this.scores[at]): boolean {
    return score > otherScore || (score === otherScore && n < otherN);
  }
}

function binaryHas(sorted: readonly string[], value: string): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] === value) return true;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** The default text model: BM25 over name, trigger and trained words, tags, creator and description. */
@Injectable()
export class LexicalSimilarityModel extends SimilarityModel {
  readonly name = 'lexical-bm25';

  createIndex(): SimilarityIndex {
    return new LexicalSimilarityIndex();
  }
}
