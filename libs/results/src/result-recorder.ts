import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AdapterRepository, type AdapterEntity } from '@app/adapters';
import { errorMessage, MetricsService, ThumbnailService } from '@app/core';
import {
  type GenerationImageRef,
  type GenerationJobEntity,
  GenerationResultSink,
  type PreparedImages,
  type ResultEmit,
  SdImageContentType,
  type Txt2ImgResult,
} from '@app/generation';
import { GenerationResultEntity } from './generation-result.entity.js';
import { GenerationResultRepository } from './generation-result.repository.js';
import { imageSizeOf, withPngInfotext } from './image-facts.js';
import { buildInfotext, loraTokensOf, type ResultLora } from './infotext.js';
import { resultThumbnailIdentity } from './results.service.js';

const FORMATS: Record<string, string> = {
  [SdImageContentType.Png]: 'png',
  [SdImageContentType.Jpeg]: 'jpeg',
  [SdImageContentType.Webp]: 'webp',
};

export const resultImagePath = (resultId: string): string => `/api/v1/results/${resultId}/image`;

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * Records every image a generation stores as a result: resolves the LoRA tokens sent to library adapters (hashes
 * as they are now), writes the A1111 infotext into PNGs, and inserts one row per image once the job has ended, with
 * its thumbnails made from the bytes at hand in the background (the first list view then reads them, instead of
 * decoding originals).
 */
@Injectable()
export class ResultRecorder extends GenerationResultSink {
  private readonly logger = new Logger(ResultRecorder.name);

  constructor(
    private readonly repository: GenerationResultRepository,
    private readonly adapters: AdapterRepository,
    private readonly metrics: MetricsService,
    private readonly thumbnails: ThumbnailService,
  ) {
    super();
  }

  async prepare(job: GenerationJobEntity, backendId: string, result: Txt2ImgResult): Promise<PreparedImages> {
    const request = job.request as Record<string, unknown>;
    const loras = await this.resolveLoras(text(request.prompt) ?? '', job).catch((error: unknown) => {
      this.logger.warn(`LoRAs of generation ${job.id} not resolved: ${errorMessage(error)}`);
      return [] as ResultLora[];
    });
    const info = result.info;
    const override = request.override_settings as Record<string, unknown> | undefined;
    const model = text(override?.sd_model_checkpoint) ?? text(info.sd_model_name) ?? text(info.sd_model_checkpoint);
    const seedOf = (index: number): number | null => result.seeds[index] ?? (index === 0 ? result.seed : null);
    const sizes = result.images.map((image) => imageSizeOf(image.bytes));
    const bytes = result.images.map((image, index) => {
      if (image.contentType !== SdImageContentType.Png) return image.bytes;
      const infotext = buildInfotext({
        prompt: text(request.prompt) ?? '',
        negativePrompt: text(request.negative_prompt),
        steps: num(request.steps) ?? num(info.steps),
        sampler: text(request.sampler_name) ?? text(info.sampler_name),
        cfgScale: num(request.cfg_scale) ?? num(info.cfg_scale),
        seed: seedOf(index),
        width: sizes[index]?.width ?? num(request.width),
        height: sizes[index]?.height ?? num(request.height),
        model,
        loras,
      });
      return withPngInfotext(image.bytes, infotext) ?? image.bytes;
    });
    return {
      bytes,
      record: (row, refs, emit) =>
        this.record(row, backendId, refs, { loras, model, seedOf, sizes, bytes }, emit).catch((error: unknown) => {
          this.metrics.results.inc({ event: 'record_failed' });
          this.logger.error(`Results of generation ${job.id} not recorded: ${errorMessage(error)}`);
        }),
    };
  }

  private async record(
    job: GenerationJobEntity,
    backendId: string,
    refs: GenerationImageRef[],
    facts: {
      loras: ResultLora[];
      model: string | null;
      seedOf: (index: number) => number | null;
      sizes: ({ width: number; height: number } | null)[];
      bytes: Buffer[];
    },
    emit: ResultEmit,
  ): Promise<void> {
    const request = job.request as Record<string, unknown>;
    const finishedAt = job.finishedAt ?? new Date();
    const rows = refs.map((ref) => {
      const row = new GenerationResultEntity();
      Object.assign(row, {
        id: randomUUID(),
        jobId: job.id,
        imageIndex: ref.index,
        storageKey: ref.key,
        format: FORMATS[ref.contentType] ?? 'bin',
        contentType: ref.contentType,
        width: facts.sizes[ref.index]?.width ?? null,
        height: facts.sizes[ref.index]?.height ?? null,
        bytes: ref.size,
        seed: facts.seedOf(ref.index),
        request,
        prompt: text(request.prompt) ?? '',
        negativePrompt: text(request.negative_prompt),
        loras: facts.loras,
        model: facts.model,
        backendId,
        startedAt: job.startedAt,
        finishedAt,
        durationMs: job.startedAt ? finishedAt.getTime() - job.startedAt.getTime() : null,
        rating: 0,
        favorite: false,
        tags: [],
        notes: null,
        createdAt: finishedAt,
        updatedAt: finishedAt,
      } satisfies GenerationResultEntity);
      return row;
    });
    const inserted = await this.repository.insertMany(rows);
    for (const row of inserted) {
      const image = facts.bytes[row.imageIndex];
      // Made while the job ends and the next one starts (9 of the 15 ms a job spent here): a client that asks for
      // one meanwhile waits for the same rendering.
      if (image) this.thumbnails.prepareSoon(resultThumbnailIdentity(row), image);
      this.metrics.results.inc({ event: 'created' });
      this.metrics.resultBytes.inc(row.bytes);
      await emit('result.created', {
        jobId: row.jobId,
        resultId: row.id,
        imageIndex: row.imageIndex,
        backendId: row.backendId,
        contentType: row.contentType,
        url: resultImagePath(row.id),
      });
    }
  }

  /**
   * The LoRA tokens of the prompt as sent, each with the library adapter that claims its name: the one the
   * composition chose when there is one, else the only claimant (an ambiguous or unknown name keeps no adapter).
   */
  private async resolveLoras(prompt: string, job: GenerationJobEntity): Promise<ResultLora[]> {
    const tokens = loraTokensOf(prompt);
    if (tokens.length === 0) return [];
    const claimants = await this.adapters.findNameClaimants(tokens.map((t) => t.name));
    const chosen = new Set((job.adaptersUsed ?? []).map((a) => a.id).filter((id): id is string => !!id));
    return tokens.map(({ name, weight }) => {
      const claims = claimants.filter((a) => [a.loraStem, a.loraName, a.loraAlias].includes(name));
      const adapter: AdapterEntity | undefined =
        claims.find((a) => chosen.has(a.id)) ?? (claims.length === 1 ? claims[0] : undefined);
      return {
        adapterId: adapter?.id ?? null,
        name,
        weight,
        sha256: adapter?.sha256 ?? null,
        autov2: adapter?.autoV2 ?? adapter?.sha256?.slice(0, 10) ?? null,
        baseModel: adapter?.baseModel ?? null,
      };
    });
  }
}
