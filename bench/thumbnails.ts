// npm run bench:thumbnails — WebP thumbnails per second (best of 3 interleaved rounds) through the product's ThumbnailService (size cap,
// pixel cap, concurrency gate, content-addressed key, write to storage; then served from storage) beside sharp
// alone (the same resize and WebP settings, nothing else) on the same images, in the same run.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseConfig } from '../libs/core/src/config/app-config.js';
import { ThumbnailService, type ThumbnailSize } from '../libs/core/src/media/thumbnail.service.js';
import { LocalFileStorage } from '../libs/core/src/storage/file-storage.js';
import { tempDir } from '../test/support/test-services.js';
import { report, time } from './bench-util.js';

const IMAGES = 48;
const dir = tempDir('thumbnails-bench');

/** Photo-like sources: 1024 × 1024 (SDXL's size) PNGs and JPEGs of noise over a gradient, each different. */
async function sources(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const noise = await sharp({
      create: {
        width: 1024,
        height: 1024,
        channels: 3,
        background: { r: (i * 37) % 255, g: 90, b: 160 },
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .png()
      .toBuffer();
    out.push(i % 2 === 0 ? noise : await sharp(noise).jpeg({ quality: 90 }).toBuffer());
  }
  return out;
}

const images = await sources();
const megabytes = images.reduce((n, b) => n + b.length, 0) / 1024 / 1024;
const concurrency = Math.max(2, availableParallelism());

/** `count` jobs run `parallel` at a time; the rate per second. */
async function rate(count: number, parallel: number, job: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const { ms } = await time(() =>
    Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < count) await job(next++);
      }),
    ),
  );
  return count / (ms / 1000);
}

const sharpAlone = (input: Buffer, size: ThumbnailSize) =>
  sharp(input, { failOn: 'error' })
    .rotate()
    .resize(size, size, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer();

try {
  const rows: { metric: string; measured: string; baseline: string }[] = [];
  for (const size of [256, 768] as const) {
    const config = parseConfig({
      DATA_DIR: join(dir.path, `data-${size}`),
      THUMBNAIL_CONCURRENCY: String(concurrency),
    });
    const service = new ThumbnailService(new LocalFileStorage(config), config);
    sharp.cache(false); // as the service runs it: no decoded source reused between runs
    await sharpAlone(images[0], size); // load libvips before timing
    // Interleaved rounds (new identities each time, so the service makes every thumbnail): best of each.
    const alones: number[] = [];
    const colds: number[] = [];
    for (let round = 0; round < 3; round++) {
      alones.push(await rate(images.length, concurrency, (i) => sharpAlone(images[i], size)));
      colds.push(
        await rate(images.length, concurrency, (i) =>
          service.thumbnail({ identity: `bench:${round}:${i}`, read: () => Promise.resolve(images[i]) }, size),
        ),
      );
    }
    const alone = Math.max(...alones);
    const cold = Math.max(...colds);
    const warm = await rate(images.length * 4, concurrency, async (i) => {
      const answer = await service.thumbnail(
        { identity: `bench:0:${i % images.length}`, read: () => Promise.resolve(images[i % images.length]) },
        size,
      );
      if (!answer.notModified) for await (const _chunk of answer.stream) void _chunk;
    });
    rows.push(
      {
        metric: `${size} px, made (service: decode, resize, encode, store)`,
        measured: `${cold.toFixed(1)}/s`,
        baseline: `${alone.toFixed(1)}/s sharp alone`,
      },
      {
        metric: `${size} px, served from storage (cache hit)`,
        measured: `${warm.toFixed(0)}/s`,
        baseline: `${alone.toFixed(1)}/s sharp alone`,
      },
    );
  }
  report(
    `thumbnails: ${IMAGES} images 1024×1024 (PNG/JPEG, ${megabytes.toFixed(1)} MiB), ${concurrency} at a time, ${availableParallelism()} CPUs`,
    rows,
  );
} finally {
  dir.remove();
}
