import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, ConflictError, FileStorage, JobName, JobQueue, NotFoundError } from '@app/core';
import { AdapterRepository } from '../library/adapter.repository.js';
import { CivitaiPort, type CivitaiJson } from './civitai.port.js';
import { fetchImage } from './civitai-download.service.js';

/** One stored example image with what Civitai says about it. */
export interface ExampleImage {
  id: number;
  /** `examples/<adapterId>/<id>.<ext>` in the file storage. */
  key: string;
  contentType: string;
  width: number | null;
  height: number | null;
  /** Civitai's NSFW level (1 none … 16 explicit, a bit set). */
  nsfwLevel: number | null;
  /** The generation parameters Civitai has for it (prompt, sampler, seed …), as given. */
  meta: Record<string, unknown> | null;
  /** Where it came from. */
  sourceUrl: string;
}

export interface ExampleImagesIndex {
  adapterId: string;
  versionId: number;
  fetchedAt: string;
  images: ExampleImage[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const indexKey = (adapterId: string) => `examples/${adapterId}/index.json`;

/**
 * Example images of a linked adapter's Civitai version, kept in the file storage (`examples/<adapterId>/`) with
 * their generation metadata and NSFW level, so the UI shows them offline. Fetched by a job, on request only.
 */
@Injectable()
export class ExampleImagesService {
  constructor(
    private readonly adapters: AdapterRepository,
    private readonly civitai: CivitaiPort,
    private readonly storage: FileStorage,
    private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Queues the job; 409 when the adapter is not linked to a Civitai version. */
  async start(adapterId: string): Promise<{ jobId: string }> {
    await this.versionOf(adapterId);
    const { id } = await this.jobs.enqueue(JobName.CivitaiExamples, { adapterId });
    return { jobId: id };
  }

  async fetchAll(
    adapterId: string,
    signal: AbortSignal,
    onProgress: (done: number, total: number) => Promise<void>,
  ): Promise<{ stored: number; skipped: number }> {
    const versionId = await this.versionOf(adapterId);
    const items = await this.civitai.images(versionId, this.config.civitaiDownload.maxExampleImages, signal);
    const images: ExampleImage[] = [];
    let skipped = 0;
    for (const [i, item] of items.entries()) {
      signal.throwIfAborted();
      const stored = await this.storeOne(adapterId, item, signal).catch(() => null);
      if (stored) images.push(stored);
      else skipped++;
      await onProgress(i + 1, items.length);
    }
    const index: ExampleImagesIndex = { adapterId, versionId, fetchedAt: new Date().toISOString(), images };
    await this.storage.put(indexKey(adapterId), Buffer.from(JSON.stringify(index)));
    return { stored: images.length, skipped };
  }

  /** What is stored for the adapter; an empty list when nothing was fetched yet. */
  async list(adapterId: string): Promise<ExampleImagesIndex | null> {
    const [adapter] = await this.adapters.findByIds([adapterId]);
    if (!adapter) throw new NotFoundError('Adapter', adapterId);
    const bytes = await this.storage.get(indexKey(adapterId));
    return bytes ? (JSON.parse(bytes.toString('utf8')) as ExampleImagesIndex) : null;
  }

  async open(adapterId: string, imageId: number): Promise<{ stream: Readable; size: number; contentType: string }> {
    const image = (await this.list(adapterId))?.images.find((i) => i.id === imageId);
    const opened = image ? await this.storage.open(image.key) : null;
    if (!image || !opened) throw new NotFoundError('Example image', String(imageId));
    return { ...opened, contentType: image.contentType };
  }

  private async storeOne(adapterId: string, item: CivitaiJson, signal: AbortSignal): Promise<ExampleImage | null> {
    const id = num(item.id);
    if (id === null || typeof item.url !== 'string') return null;
    const image = await fetchImage(item.url, this.config, signal);
    if (!image) return null;
    const key = `examples/${adapterId}/${id}.${image.ext}`;
    await this.storage.put(key, image.bytes);
    const meta = typeof item.meta === 'object' && item.meta !== null ? (item.meta as Record<string, unknown>) : null;
    return {
      id,
      key,
      contentType: image.contentType,
      width: num(item.width),
      height: num(item.height),
      nsfwLevel: num(item.nsfwLevel),
      meta,
      sourceUrl: item.url,
    };
  }

  private async versionOf(adapterId: string): Promise<number> {
    const [adapter] = await this.adapters.findByIds([adapterId]);
    if (!adapter) throw new NotFoundError('Adapter', adapterId);
    if (adapter.civitaiVersionId === null) {
      throw new ConflictError(
        'not_linked',
        `Adapter ${adapterId} is not linked to a Civitai version; look it up or link it first`,
      );
    }
    return adapter.civitaiVersionId;
  }
}
