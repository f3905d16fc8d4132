import { Injectable } from '@nestjs/common';
import { baseModelFamily, BaseModel } from '@app/adapters';
import { InvalidInputError, NotFoundError } from '@app/core';
import { RecommendationKind } from './recommendation.entities.js';
import { RecommendationIndexService, type LocalIndexStats } from './recommendation-index.service.js';
import {
  type CoUsage,
  type FeedbackTotals,
  RecommendationsRepository,
  type RecommendedAdapter,
} from './recommendations.repository.js';
import type { TextHit } from './similarity-index.js';

/** How much each part weighs in a hit's score (they add up to 1). */
export const SCORE_WEIGHTS = { text: 0.55, coUsage: 0.25, feedback: 0.2 } as const;
/** For a prompt there is no co-usage: text and feedback only. */
export const PROMPT_SCORE_WEIGHTS = { text: 0.8, feedback: 0.2 } as const;
/** Candidates the text model is asked for, beyond the limit, before the other parts re-rank them. */
const TEXT_CANDIDATES = 200;
const CO_USAGE_CANDIDATES = 100;
/** Feedback in the list of the same adapter counts fully; feedback given elsewhere counts this much. */
const OTHER_LIST_FEEDBACK = 0.35;

export interface ScoreParts {
  /** 0..1: how alike the texts are (for a prompt: how well the prompt's words match, relative to the best hit). */
  text: number;
  /** 0..1: how often the two were generated together, relative to the most. */
  coUsage: number;
  /** -1..1: users' "useful" minus "not useful", squashed. */
  feedback: number;
}

export interface Recommendation {
  adapter: RecommendedAdapter;
  score: number;
  parts: ScoreParts;
  /** Same base-model family as the adapter or checkpoint asked about (unknown base models are compatible). */
  compatible: boolean;
  matchedTerms: string[];
  /** Images generated with both adapters. */
  coUsageCount: number;
  feedback: FeedbackTotals;
  /** Why it is here, one short sentence per part that counted. */
  reasons: string[];
}

export interface SimilarQuery {
  limit: number;
  /** Keep adapters of other base-model families, flagged `compatible: false`. */
  includeIncompatible: boolean;
}

export interface PromptQuery {
  prompt: string;
  baseModel?: string;
  limit: number;
  includeIncompatible: boolean;
}

export interface FeedbackInput {
  kind: RecommendationKind;
  adapterId: string;
  sourceAdapterId?: string;
  useful: boolean;
  prompt?: string;
}

/** Base models of one family work together; an unknown base model is assumed to. */
export function compatibleBaseModels(a: string, b: string): boolean {
  const unknown: string = BaseModel.Unknown;
  if (a === unknown || b === unknown) return true;
  return a === b || baseModelFamily(a) === baseModelFamily(b);
}

function feedbackPart(pair: FeedbackTotals | undefined, overall: FeedbackTotals | undefined): number {
  const net = (t: FeedbackTotals | undefined): number => (t ? t.useful - t.notUseful : 0);
  const pairNet = net(pair);
  const elsewhere = net(overall) - pairNet;
  return Math.tanh((pairNet + OTHER_LIST_FEEDBACK * elsewhere) / 2);
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

const times = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** `Used together: 3 images, 1 recipe`: each kind of use that counted. */
function usedTogether(usage: CoUsage): string {
  const parts = [
    usage.images > 0 ? times(usage.images, 'image') : '',
    usage.recipes > 0 ? times(usage.recipes, 'recipe') : '',
    usage.compositions > 0 ? times(usage.compositions, 'composition') : '',
    usage.deliveries > 0 ? times(usage.deliveries, 'delivery', 'deliveries') : '',
  ].filter((p) => p !== '');
  return `Used together: ${parts.join(', ')}`;
}

/** Similar adapters, adapters for a prompt or a trigger word, and the feedback that tunes them. */
@Injectable()
export class RecommendationsService {
  constructor(
    private readonly repository: RecommendationsRepository,
    private readonly indexes: RecommendationIndexService,
  ) {}

  async similar(adapterId: string, query: SimilarQuery): Promise<Recommendation[]> {
    const source = await this.repository.presentText(adapterId);
    if (!source) throw new NotFoundError('Adapter', adapterId);
    const index = await this.indexes.current();
    if (!index.has(source.id)) index.upsert(source);
    const accept = query.includeIncompatible
      ? undefined
      : (baseModel: string) => compatibleBaseModels(source.baseModel, baseModel);
    const textHits = index.similarTo(source.id, { limit: TEXT_CANDIDATES, accept });
    const coUsage = await this.repository.coUsage(source.id, CO_USAGE_CANDIDATES);
    const ids = new Set([...textHits.map((h) => h.id), ...coUsage.keys()]);
    ids.delete(source.id);
    const [adapters, feedback] = await Promise.all([
      this.repository.presentAdapters([...ids]),
      this.repository.feedbackTotals([...ids], source.id),
    ]);
    const maxUses = Math.max(1, ...[...coUsage.values()].map((u) => u.total));
    const textById = new Map(textHits.map((h) => [h.id, h]));
    const items: Recommendation[] = [];
    for (const id of ids) {
      const adapter = adapters.get(id);
      if (!adapter) {
        this.indexes.forget(id);
        continue;
      }
      const compatible = compatibleBaseModels(source.baseModel, adapter.baseModel);
      if (!compatible && !query.includeIncompatible) continue;
      const usage = coUsage.get(id);
      const uses = usage?.total ?? 0;
      const parts: ScoreParts = {
        text: round(textById.get(id)?.score ?? 0),
        coUsage: round(uses === 0 ? 0 : Math.log1p(uses) / Math.log1p(maxUses)),
        feedback: round(feedbackPart(feedback.pair.get(id), feedback.overall.get(id))),
      };
      const score =
        SCORE_WEIGHTS.text * parts.text +
        SCORE_WEIGHTS.coUsage * parts.coUsage +
        SCORE_WEIGHTS.feedback * parts.feedback;
      const totals = feedback.overall.get(id) ?? { useful: 0, notUseful: 0 };
      const matchedTerms = textById.get(id)?.terms ?? [];
      items.push({
        adapter,
        score: round(score),
        parts,
        compatible,
        matchedTerms,
        coUsageCount: uses,
        feedback: totals,
        reasons: this.reasons(matchedTerms, usage, totals, compatible, 'shares'),
      });
    }
    return this.top(items, query.limit);
  }

  async forPrompt(query: PromptQuery): Promise<Recommendation[]> {
    if (query.prompt.trim() === '') throw InvalidInputError.field('prompt', 'must not be empty', 'empty_prompt');
    const index = await this.indexes.current();
    const wanted = query.baseModel;
    const accept =
      wanted === undefined || query.includeIncompatible
        ? undefined
        : (baseModel: string) => compatibleBaseModels(wanted, baseModel);
    const hits = index.search(query.prompt, { limit: Math.max(TEXT_CANDIDATES, query.limit), accept });
    return this.rankHits(hits, wanted, query.limit, RecommendationKind.Prompt);
  }

  async byTrigger(word: string, limit: number, baseModel?: string): Promise<Recommendation[]> {
    if (word.trim() === '') throw InvalidInputError.field('word', 'must not be empty', 'empty_word');
    const index = await this.indexes.current();
    const accept = baseModel === undefined ? undefined : (b: string) => compatibleBaseModels(baseModel, b);
    const hits = index.byTrigger(word, { limit: Math.max(TEXT_CANDIDATES, limit), accept });
    return this.rankHits(hits, baseModel, limit, RecommendationKind.Trigger);
  }

  async feedback(input: FeedbackInput): Promise<{ id: string; totals: FeedbackTotals }> {
    const known = await this.repository.presentAdapters(
      input.sourceAdapterId === undefined ? [input.adapterId] : [input.adapterId, input.sourceAdapterId],
    );
    if (!known.has(input.adapterId)) throw new NotFoundError('Adapter', input.adapterId);
    if (input.sourceAdapterId !== undefined && !known.has(input.sourceAdapterId))
      throw new NotFoundError('Adapter', input.sourceAdapterId);
    if (input.kind === RecommendationKind.Similar && input.sourceAdapterId === undefined)
      throw InvalidInputError.field('sourceAdapterId', 'is required for a similar-adapters recommendation');
    const row = await this.repository.addFeedback({
      kind: input.kind,
      adapterId: input.adapterId,
      sourceAdapterId: input.sourceAdapterId ?? null,
      useful: input.useful,
      prompt: input.prompt?.slice(0, 1000) ?? null,
    });
    const { overall } = await this.repository.feedbackTotals([input.adapterId], null);
    return { id: row.id, totals: overall.get(input.adapterId) ?? { useful: 0, notUseful: 0 } };
  }

  /** This process's index (built now when there is none), and the last rebuild job's record. */
  async stats(): Promise<{ local: LocalIndexStats; stored: Awaited<ReturnType<RecommendationsRepository['state']>> }> {
    await this.indexes.current();
    return { local: this.indexes.stats()!, stored: await this.repository.state() };
  }

  private async rankHits(
    hits: TextHit[],
    baseModel: string | undefined,
    limit: number,
    kind: RecommendationKind,
  ): Promise<Recommendation[]> {
    const ids = hits.map((h) => h.id);
    const [adapters, feedback] = await Promise.all([
      this.repository.presentAdapters(ids),
      this.repository.feedbackTotals(ids, null),
    ]);
    const items: Recommendation[] = [];
    for (const hit of hits) {
      const adapter = adapters.get(hit.id);
      if (!adapter) {
        this.indexes.forget(hit.id);
        continue;
      }
      const totals = feedback.overall.get(hit.id) ?? { useful: 0, notUseful: 0 };
      const parts: ScoreParts = {
        text: round(hit.score),
        coUsage: 0,
        feedback: round(feedbackPart(totals, undefined)),
      };
      const compatible = baseModel === undefined || compatibleBaseModels(baseModel, adapter.baseModel);
      items.push({
        adapter,
        score: round(PROMPT_SCORE_WEIGHTS.text * parts.text + PROMPT_SCORE_WEIGHTS.feedback * parts.feedback),
        parts,
        compatible,
        matchedTerms: hit.terms,
        coUsageCount: 0,
        feedback: totals,
        reasons: this.reasons(
          hit.terms,
          undefined,
          totals,
          compatible,
          kind === RecommendationKind.Trigger ? 'trigger' : 'matches',
        ),
      });
    }
    return this.top(items, limit);
  }

  private top(items: Recommendation[], limit: number): Recommendation[] {
    return items
      .sort(
        (a, b) =>
          b.score - a.score || a.adapter.name.localeCompare(b.adapter.name) || a.adapter.id.localeCompare(b.adapter.id),
      )
      .slice(0, limit);
  }

  private reasons(
    terms: readonly string[],
    usage: CoUsage | undefined,
    totals: FeedbackTotals,
    compatible: boolean,
    verb: 'shares' | 'matches' | 'trigger',
  ): string[] {
    const reasons: string[] = [];
    if (terms.length > 0) {
      const list = terms.slice(0, 5).join(', ');
      reasons.push(
        verb === 'shares' ? `Shares words: ${list}` : verb === 'trigger' ? `Trigger word: ${list}` : `Matches: ${list}`,
      );
    }
    if (usage && usage.total > 0) reasons.push(usedTogether(usage));
    if (totals.useful > 0) reasons.push(`Marked useful ${totals.useful} time${totals.useful === 1 ? '' : 's'}`);
    if (totals.notUseful > 0)
      reasons.push(`Marked not useful ${totals.notUseful} time${totals.notUseful === 1 ? '' : 's'}`);
    if (!compatible) reasons.push('Other base model family');
    return reasons;
  }
}
