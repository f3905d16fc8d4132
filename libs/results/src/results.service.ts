import { Injectable, Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';
import {
  errorMessage,
  EventRelay,
  FileStorage,
  MetricsService,
  NotFoundError,
  type ThumbnailAnswer,
  ThumbnailService,
  type ThumbnailSize,
} from '@app/core';
import type { GenerationRequest } from '@app/generation';
import type { GenerationResultEntity } from './generation-result.entity.js';
import { GenerationResultRepository } from './generation-result.repository.js';
import type { ResultListQuery, ResultUserFields } from './result-query.js';

/** txt2img settings a reused result carries over (the client-settable ones of a generation request). */
const REUSED_FIELDS = [
  'negative_prompt',
  'steps',
  'cfg_scale',
  'width',
  'height',
  'subseed',
  'subseed_strength',
  'sampler_name',
  'clip_skip',
  'enable_hr',
  'hr_scale',
  'hr_upscaler',
  'hr_second_pass_steps',
  'denoising_strength',
] as const satisfies readonly (keyof GenerationRequest)[];

export interface ReusedResult {
  /** Ready for `queue-generation` or `generate`: one image, the same prompt, settings and checkpoint. */
  request: GenerationRequest;
  /** The LoRAs of the prompt, by library adapter id where the name resolved, with their weights. */
  loras: { adapterId: string | null; name: string; weight: number }[];
}

/** Names a result's image bytes for its thumbnails (a result's image never changes). */
export function resultThumbnailIdentity(row: Pick<GenerationResultEntity, 'id' | 'storageKey' | 'bytes'>): string {
  return `result:${row.storageKey}:${row.bytes}:${row.id}`;
}

export interface BulkOutcome {
  /** Ids acted on. */
  done: string[];
  /** Ids that name no result. */
  missing: string[];
}

@Injectable()
export class ResultsService {
  private readonly logger = new Logger(ResultsService.name);

  constructor(
    private readonly repository: GenerationResultRepository,
    private readonly storage: FileStorage,
    private readonly events: EventRelay,
    private readonly metrics: MetricsService,
    private readonly thumbnails: ThumbnailService,
  ) {}

  list(query: ResultListQuery): Promise<{ items: GenerationResultEntity[]; nextCursor: string | null }> {
    return this.repository.list(query);
  }

  async get(id: string): Promise<GenerationResultEntity> {
    const row = await this.repository.findById(id);
    if (!row) throw new NotFoundError('Result', id);
    return row;
  }

  /** The stored image as a stream; 404 when the row or its file is gone. */
  async image(id: string): Promise<{ stream: Readable; size: number; contentType: string; fileName: string }> {
    const row = await this.get(id);
    const file = await this.storage.open(row.storageKey);
    if (!file) throw new NotFoundError('Result image', id, 'result_image_not_found');
    const extension = row.format === 'jpeg' ? 'jpg' : row.format;
    return { ...file, contentType: row.contentType, fileName: `${row.jobId}-${row.imageIndex}.${extension}` };
  }

  /** The image's WebP thumbnail: cached in storage (the 256 px one made after saving, others on first request), or `notModified`. */
  async thumbnail(id: string, size: ThumbnailSize, ifNoneMatch?: string): Promise<ThumbnailAnswer> {
    const row = await this.get(id);
    return this.thumbnails.thumbnail(
      { identity: resultThumbnailIdentity(row), read: async () => (await this.image(row.id)).stream },
      size,
      ifNoneMatch,
    );
  }

  async update(id: string, fields: ResultUserFields): Promise<GenerationResultEntity> {
    const tags = fields.tags === undefined ? undefined : normaliseTags(fields.tags);
    if (!(await this.repository.update(id, { ...fields, tags }))) throw new NotFoundError('Result', id);
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    const { missing } = await this.deleteMany([id]);
    if (missing.length > 0) throw new NotFoundError('Result', id);
  }

  /**
   * Deletes rows first, then their files and thumbnails: a crash in between leaves an orphan file, never a row
   * without file. Every deletion (one, bulk, retention, `storage check --repair`) comes through here.
   */
  async deleteMany(ids: string[]): Promise<BulkOutcome> {
    const rows = await this.repository.deleteMany(ids);
    for (const row of rows) {
      await this.storage
        .delete(row.storageKey)
        .catch((error: unknown) => this.logger.warn(`File of result ${row.id} not deleted: ${errorMessage(error)}`));
      await this.thumbnails.discard(resultThumbnailIdentity(row));
      this.metrics.results.inc({ event: 'deleted' });
      // Through the relay: in scale-out the clients of every API instance hear of it, not only this one's.
      await this.events.publish('result.deleted', { jobId: row.jobId, resultId: row.id });
    }
    return outcome(
      ids,
      rows.map((r) => r.id),
    );
  }

  async setFavorite(ids: string[], favorite: boolean): Promise<BulkOutcome> {
    return outcome(ids, await this.repository.setFavorite(ids, favorite));
  }

  async tag(ids: string[], add: string[], remove: string[]): Promise<BulkOutcome> {
    const rows = await this.repository.findByIds([...new Set(ids)]);
    const adding = normaliseTags(add);
    const removing = new Set(normaliseTags(remove));
    for (const row of rows) {
      row.tags = normaliseTags([...row.tags.filter((t) => !removing.has(t)), ...adding]);
    }
    await this.repository.saveTags(rows);
    return outcome(
      ids,
      rows.map((r) => r.id),
    );
  }

  /** The generation request that makes this image again: its seed, or a random one (`-1`) when `keepSeed` is false. */
  async reuse(id: string, keepSeed: boolean): Promise<ReusedResult> {
    const row = await this.get(id);
    const request: GenerationRequest = { prompt: row.prompt };
    const sent = row.request as Record<string, unknown>;
    for (const field of REUSED_FIELDS) {
      if (sent[field] !== undefined && sent[field] !== null) Object.assign(request, { [field]: sent[field] });
    }
    const override = sent.override_settings as Record<string, unknown> | undefined;
    if (typeof override?.sd_model_checkpoint === 'string') request.checkpoint = override.sd_model_checkpoint;
    request.seed = keepSeed && row.seed !== null ? row.seed : -1;
    request.batch_size = 1;
    request.n_iter = 1;
    return {
      request,
      loras: row.loras.map((l) => ({ adapterId: l.adapterId, name: l.name, weight: l.weight })),
    };
  }
}

/** Trimmed, lower-cased, unique, in order. */
function normaliseTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().toLowerCase()).filter((t) => t.length > 0))];
}

function outcome(asked: string[], done: string[]): BulkOutcome {
  const found = new Set(done);
  return { done, missing: [...new Set(asked)].filter((id) => !found.has(id)) };
}
