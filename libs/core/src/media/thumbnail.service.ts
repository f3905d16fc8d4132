import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Sharp, SharpOptions } from 'sharp';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { errorMessage, UnprocessableError } from '../errors/domain-error.js';
import { FileStorage } from '../storage/file-storage.js';

/** Thumbnail sizes, in pixels on the long side: the grids' card (256) and a large preview (768). */
export const THUMBNAIL_SIZES = [256, 768] as const;
export type ThumbnailSize = (typeof THUMBNAIL_SIZES)[number];
/**
 * The sizes made ahead when a result is saved: the grids' card, which every new result is shown at. The large
 * preview is made on its first request: of a 1024 px result it costs ~100 ms of CPU (WebP encoding), 4-5x the card.
 */
export const THUMBNAIL_SIZES_AHEAD: readonly ThumbnailSize[] = [256];

/** Bump when the rendering changes (size rule, format, quality): every cached thumbnail gets a new key. */
const RENDER_VERSION = 'webp-q80-v1';
const WEBP_QUALITY = 80;

/** An image to make thumbnails of. */
export interface ThumbnailSource {
  /**
   * Names these exact bytes: a content hash, or the source's location with its size and mtime. A changed source
   * must give a new identity, so that it gets a new thumbnail key and ETag.
   */
  identity: string;
  /** The source's bytes; read only when the thumbnail is not cached yet. */
  read(): Promise<Buffer | Readable>;
}

export type ThumbnailAnswer =
  | { notModified: true; etag: string }
  | { notModified: false; etag: string; stream: Readable; size: number; contentType: 'image/webp' };

type SharpFactory = (input: Buffer, options: SharpOptions) => Sharp;

let sharpFactory: Promise<SharpFactory> | undefined;
/**
 * sharp (libvips) is loaded on first use: processes that never make a thumbnail (the CLI) do not pay for it.
 * libvips' operation cache is off: a made thumbnail is kept in storage, so decoded sources would only hold memory.
 */
const loadSharp = (): Promise<SharpFactory> =>
  (sharpFactory ??= import('sharp').then((m) => {
    m.default.cache(false);
    return m.default;
  }));

/**
 * WebP thumbnails of results and previews, made on first request and kept in the FileStorage under a key derived
 * from the source's identity (content-addressed: a changed source gets a new key, old ones are never served for
 * it). Sources are size-capped before decoding and pixel-capped by sharp's header check (decompression bombs);
 * anything that does not decode is a 422. At most THUMBNAIL_CONCURRENCY are made at once per process.
 */
@Injectable()
export class ThumbnailService implements OnApplicationShutdown {
  private readonly logger = new Logger(ThumbnailService.name);
  private readonly limits: AppConfig['thumbnails'];
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly inFlight = new Map<string, Promise<Buffer>>();
  /** {@link prepareSoon}'s work not finished yet. */
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly storage: FileStorage,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limits = config.thumbnails;
  }

  /** The digest that names a source's thumbnail at one size: its storage key and its ETag. */
  static digestOf(identity: string, size: ThumbnailSize): string {
    return createHash('sha256').update(`${RENDER_VERSION}\0${size}\0${identity}`).digest('hex');
  }

  static keyOf(digest: string, size: ThumbnailSize): string {
    return `thumbnails/${size}/${digest.slice(0, 2)}/${digest}.webp`;
  }

  /** The storage keys of a source's thumbnails at every size, made or not. */
  static keysOf(identity: string): string[] {
    return THUMBNAIL_SIZES.map((size) => ThumbnailService.keyOf(ThumbnailService.digestOf(identity, size), size));
  }

  /**
   * Makes and stores a source's thumbnails (by default the sizes made ahead) from bytes at hand (a result being
   * saved), so that the first list view finds them. Never throws: a thumbnail not made now is made on its first
   * request. A request for one while it is being made waits for this rendering instead of starting its own.
   */
  async prepare(identity: string, input: Buffer, sizes = THUMBNAIL_SIZES_AHEAD): Promise<void> {
    for (const size of sizes) {
      const key = ThumbnailService.keyOf(ThumbnailService.digestOf(identity, size), size);
      await this.makeOnce(key, size, () => Promise.resolve(input)).catch((error: unknown) =>
        this.logger.warn(`Thumbnail ${key} not made ahead: ${errorMessage(error)}`),
      );
    }
  }

  /**
   * {@link prepare} without waiting: the caller (a generation ending) goes on while the thumbnails are made. The
   * process waits for them when it shuts down.
   */
  prepareSoon(identity: string, input: Buffer): void {
    const work: Promise<void> = this.prepare(identity, input).finally(() => this.background.delete(work));
    this.background.add(work);
  }

  /** Thumbnails still being made in the background are finished before the process stops. */
  async onApplicationShutdown(): Promise<void> {
    while (this.background.size > 0) await Promise.all(this.background);
  }

  /** Deletes a source's thumbnails (the source is gone); a failure is only logged: nothing serves them any more. */
  async discard(identity: string): Promise<void> {
    for (const key of ThumbnailService.keysOf(identity)) {
      await this.storage
        .delete(key)
        .catch((error: unknown) => this.logger.warn(`Thumbnail ${key} not deleted: ${errorMessage(error)}`));
    }
  }

  /**
   * The thumbnail, from storage or made now; `notModified` when `ifNoneMatch` names it already (no storage read).
   * Throws {@link UnprocessableError} (`image_too_large`, `image_unreadable`) for sources that do not decode.
   */
  async thumbnail(source: ThumbnailSource, size: ThumbnailSize, ifNoneMatch?: string): Promise<ThumbnailAnswer> {
    const digest = ThumbnailService.digestOf(source.identity, size);
    const etag = `"${digest.slice(0, 40)}"`;
    if (ifNoneMatch && matchesEtag(ifNoneMatch, etag)) return { notModified: true, etag };
    const key = ThumbnailService.keyOf(digest, size);
    const cached = await this.storage.open(key);
    if (cached)
      return { notModified: false, etag, stream: cached.stream, size: cached.size, contentType: 'image/webp' };
    const bytes = await this.makeOnce(key, size, async () =>
      readCapped(await source.read(), this.limits.maxSourceBytes),
    );
    return { notModified: false, etag, stream: Readable.from([bytes]), size: bytes.length, contentType: 'image/webp' };
  }

  /**
   * Renders the thumbnail stored under `key` and stores it, once for every caller asking meanwhile (a result's card
   * being made ahead and a request for it share one rendering). A thumbnail that cannot be stored now is still
   * returned; the next request tries again.
   */
  private makeOnce(key: string, size: ThumbnailSize, input: () => Promise<Buffer>): Promise<Buffer> {
    let making = this.inFlight.get(key);
    if (!making) {
      making = (async () => {
        const bytes = await this.render(await input(), size);
        await this.storage
          .put(key, bytes, { contentType: 'image/webp' })
          .catch((error: unknown) => this.logger.warn(`Thumbnail ${key} not cached: ${errorMessage(error)}`));
        return bytes;
      })().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, making);
    }
    return making;
  }

  /** One source image as a WebP thumbnail, `size` pixels on its long side at most (never enlarged). */
  async render(input: Buffer, size: ThumbnailSize): Promise<Buffer> {
    if (input.length > this.limits.maxSourceBytes) throw tooManyBytes(this.limits.maxSourceBytes);
    const sharp = await loadSharp();
    await this.acquire();
    try {
      return await sharp(input, { limitInputPixels: this.limits.maxPixels, failOn: 'error', animated: false })
        .rotate()
        .resize(size, size, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: WEBP_QUALITY })
        .toBuffer();
    } catch (error) {
      const message = errorMessage(error);
      if (/pixel limit/i.test(message)) {
        throw new UnprocessableError(
          'image_too_large',
          `The image has more pixels than THUMBNAIL_MAX_PIXELS (${this.limits.maxPixels.toLocaleString('en')}) allows`,
        );
      }
      throw new UnprocessableError('image_unreadable', `The image cannot be decoded: ${message}`);
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.running < this.limits.concurrency) {
      this.running++;
      return;
    }
    // The releasing call hands its slot over directly, so `running` stays counted.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}

const tooManyBytes = (max: number): UnprocessableError =>
  new UnprocessableError(
    'image_too_large',
    `The image is larger than THUMBNAIL_MAX_SOURCE_MB (${Math.round(max / 1024 / 1024)} MiB) allows`,
  );

/** The source's bytes, refused as soon as they pass `max` (a stream is not read further). */
async function readCapped(source: Buffer | Readable, max: number): Promise<Buffer> {
  if (Buffer.isBuffer(source)) {
    if (source.length > max) throw tooManyBytes(max);
    return source;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source) {
      total += (chunk as Buffer).length;
      if (total > max) throw tooManyBytes(max);
      chunks.push(chunk as Buffer);
    }
  } finally {
    source.destroy();
  }
  return Buffer.concat(chunks);
}

/** `If-None-Match` names the ETag: a list of tags (weak or not) or `*`. */
function matchesEtag(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
