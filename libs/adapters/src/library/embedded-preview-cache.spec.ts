import { describe, expect, it } from '@jest/globals';
import type { EmbeddedPreview } from '../reading/safetensors-header.js';
import { EmbeddedPreviewCache } from './embedded-preview-cache.js';

const image = (key: string, size = 10): EmbeddedPreview => ({
  key,
  contentType: 'image/png',
  bytes: Buffer.alloc(size, key),
});

/** A load that waits until `release()` and counts how many run at once. */
function gate() {
  let running = 0;
  let peak = 0;
  const waiting: (() => void)[] = [];
  return {
    load: (value: EmbeddedPreview) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => waiting.push(resolve));
      running--;
      return value;
    },
    releaseAll: async () => {
      while (waiting.length > 0 || running > 0) {
        waiting.splice(0).forEach((r) => r());
        await new Promise((r) => setImmediate(r));
      }
    },
    get peak() {
      return peak;
    },
  };
}

describe(EmbeddedPreviewCache.name, () => {
  it('should parse a header once for concurrent requests of one file and serve later ones from memory', async () => {
    const cache = new EmbeddedPreviewCache();
    const g = gate();
    const answers = Promise.all(Array.from({ length: 24 }, () => cache.get('lora-1', g.load(image('a')))));
    await g.releaseAll();
    expect((await answers).every((p) => p?.bytes.equals(Buffer.alloc(10, 'a')))).toBe(true);
    expect(await cache.get('lora-1', () => Promise.reject(new Error('not read again')))).toMatchObject({ key: 'a' });
    expect(cache.loads).toBe(1);
  });

  it('should parse at most two headers at a time', async () => {
    const cache = new EmbeddedPreviewCache(1024, 2);
    const g = gate();
    const answers = Promise.all(Array.from({ length: 10 }, (_, i) => cache.get(`lora-${i}`, g.load(image(String(i))))));
    await g.releaseAll();
    expect((await answers).map((p) => p?.key)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(g.peak).toBe(2);
    expect(cache.loads).toBe(10);
  });

  it('should drop the least recently used images beyond its byte budget, and not keep a failed or empty load', async () => {
    const cache = new EmbeddedPreviewCache(25);
    await cache.get('a', () => Promise.resolve(image('a')));
    await cache.get('b', () => Promise.resolve(image('b')));
    await cache.get('a', () => Promise.resolve(image('x')));
    await cache.get('c', () => Promise.resolve(image('c')));
    expect(cache.loads).toBe(3);
    expect((await cache.get('a', () => Promise.resolve(image('x'))))?.key).toBe('a');
    expect((await cache.get('b', () => Promise.resolve(image('b2'))))?.key).toBe('b2');
    await expect(cache.get('d', () => Promise.reject(new Error('unreadable')))).rejects.toThrow('unreadable');
    expect(await cache.get('e', () => Promise.resolve(undefined))).toBeUndefined();
    expect((await cache.get('d', () => Promise.resolve(image('d'))))?.key).toBe('d');
  });
});
