import type { EmbeddedPreview } from '../reading/safetensors-header.js';

/** Decoded images kept, in bytes: a few dozen thumbnails of a page of results. */
export const EMBEDDED_PREVIEW_CACHE_BYTES = 64 * 1024 * 1024;
/** Headers (up to 24 MiB of JSON each) parsed at once for previews: each parse holds ~5× its size in memory. */
export const EMBEDDED_PREVIEW_READS = 2;

/**
 * Images embedded in LoRA headers, decoded once per file version (the caller's key holds size and mtime): the
 * header is parsed on the first request only, at most `maxReads` at a time, and requests for the same key share
 * that one parse. Least recently used images go first when the byte budget is full.
 */
export class EmbeddedPreviewCache {
  private readonly images = new Map<string, EmbeddedPreview>();
  private readonly loading = new Map<string, Promise<EmbeddedPreview | undefined>>();
  private readonly queue: (() => void)[] = [];
  private bytes = 0;
  private reading = 0;
  /** Header parses run so far (each a cache miss that was not shared). */
  loads = 0;

  constructor(
    private readonly maxBytes = EMBEDDED_PREVIEW_CACHE_BYTES,
    private readonly maxReads = EMBEDDED_PREVIEW_READS,
  ) {}

  async get(key: string, load: () => Promise<EmbeddedPreview | undefined>): Promise<EmbeddedPreview | undefined> {
    const hit = this.images.get(key);
    if (hit) {
      this.images.delete(key);
      this.images.set(key, hit);
      return hit;
    }
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.limited(load).then((image) => {
        if (image) this.keep(key, image);
        return image;
      });
      pending.finally(() => this.loading.delete(key)).catch(() => undefined);
      this.loading.set(key, pending);
    }
    return pending;
  }

  private keep(key: string, image: EmbeddedPreview): void {
    if (image.bytes.length > this.maxBytes) return;
    this.images.set(key, image);
    this.bytes += image.bytes.length;
    for (const [oldest, old] of this.images) {
      if (this.bytes <= this.maxBytes) break;
      this.images.delete(oldest);
      this.bytes -= old.bytes.length;
    }
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.reading < this.maxReads) this.reading++;
    // A finishing read hands its slot straight to the next in line.
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    this.loads++;
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.reading--;
    }
  }
}
