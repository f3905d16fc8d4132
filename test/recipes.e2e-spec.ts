import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { openSeedDb, type SeedDb, seedAdapters } from './support/adapter-seed.js';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import {
  comfyPromptGraph,
  exifWithUserComment,
  jpegWithExif,
  png,
  tEXt,
  webpWithExif,
} from './support/recipe-images.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';

const VIEWER = 'viewer-key-recipes-0001';
const EDITOR = 'editor-key-recipes-0001';
const KEYS = `${VIEWER}:viewer,${EDITOR}:editor`;
const ALPHA_SHA = 'a1'.repeat(32);
const ALPHA_V3 = 'aa11bb22cc33';
const BETA_SHA = 'b2'.repeat(32);

/** An A1111 infotext: `alpha` under another token name (found by its AutoV3), `betaStyle` by alias, `ghost` unknown. */
const INFOTEXT = [
  'a lighthouse at dusk <lora:alpha_renamed:0.8> <lora:betaStyle:0.5> <lora:ghost:0.3>',
  'Negative prompt: blurry',
  `Steps: 12, Sampler: Euler a, CFG scale: 5.5, Seed: 777, Size: 512x768, Model: sd_xl_base_1.0, ` +
    `Lora hashes: "alpha_renamed: ${ALPHA_V3}, ghost: deadbeef0042"`,
].join('\n');

interface Lora {
  adapterId: string | null;
  name: string;
  weight: number;
  hash: string | null;
  sha256: string | null;
  match: string;
}

interface Stack {
  api: AppProcess;
  databaseUrl: string;
  storageDir: string;
  stop(): Promise<void>;
}

function recipesSuite(label: string, startStack: (sdnextUrl: string) => Promise<Stack>): void {
  describe(`recipes (${label})`, () => {
    const fake = new FakeSdNext({ flavour: 'sdnext', stepMs: 2, imageFormat: 'png' });
    let stack: Stack;
    let base: string;
    const adapters = { alpha: '', beta: '' };
    let fromImageId = '';

    const call = async (method: string, path: string, body?: unknown, key = EDITOR) => {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const upload = async (path: string, bytes: Buffer, type = 'image/png', key = EDITOR) => {
      const res = await fetch(`${base}/api/v1${path}`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': type },
        body: bytes,
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const settle = async (id: string): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const job = await call('GET', `/generation/jobs/${id}`, undefined, VIEWER);
        if (['succeeded', 'failed', 'cancelled'].includes(job.body.status as string)) return job.body;
        if (Date.now() > deadline) throw new Error(`job ${id} still ${String(job.body.status)}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    const withDb = async <T>(fn: (db: SeedDb, p: (i: number) => string) => Promise<T>): Promise<T> => {
      const db = await openSeedDb(stack.databaseUrl);
      try {
        return await fn(db, (i) => (db.pg ? `$${i}` : '?'));
      } finally {
        await db.close();
      }
    };

    beforeAll(async () => {
      const url = await fake.start();
      stack = await startStack(url);
      base = stack.api.baseUrl;
      await withDb(async (db, p) => {
        [adapters.alpha, adapters.beta] = await seedAdapters(db, [
          { rootId: 'root00000001', relativePath: 'alpha.safetensors', name: 'Alpha', sha256: ALPHA_SHA },
          { rootId: 'root00000001', relativePath: 'styles/beta.safetensors', name: 'Beta', sha256: BETA_SHA },
        ]);
        const set = `UPDATE adapters SET lora_stem = ${p(1)}, lora_name = ${p(2)}, lora_alias = ${p(3)}, autov2 = ${p(4)}, autov3 = ${p(5)} WHERE id = ${p(6)}`;
        await db.exec(set, ['alpha', 'alpha', null, ALPHA_SHA.slice(0, 10), ALPHA_V3, adapters.alpha]);
        await db.exec(set, ['beta', 'beta', 'betaStyle', BETA_SHA.slice(0, 10), null, adapters.beta]);
      });
    }, 200_000);

    afterAll(async () => {
      await stack?.stop();
      await fake.stop();
    });

    it('should preview an A1111 PNG: LoRAs mapped by hash, then alias, the unknown one reported; nothing stored', async () => {
      const res = await upload('/recipes/parse-image', png(8, 8, [tEXt('parameters', INFOTEXT)]));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        image: { format: 'png', width: 8, height: 8 },
        origin: 'a1111',
        prompt: INFOTEXT.split('\n')[0],
        negativePrompt: 'blurry',
        parameters: {
          steps: 12,
          sampler_name: 'Euler a',
          cfg_scale: 5.5,
          seed: 777,
          width: 512,
          height: 768,
          model: 'sd_xl_base_1.0',
        },
        warnings: [],
      });
      const loras = res.body.loras as Lora[];
      expect(loras.map((l) => [l.name, l.weight, l.adapterId, l.match])).toEqual([
        ['alpha_renamed', 0.8, adapters.alpha, 'hash'],
        ['betaStyle', 0.5, adapters.beta, 'name'],
        ['ghost', 0.3, null, 'missing'],
      ]);
      expect(res.body.missing).toEqual([expect.objectContaining({ name: 'ghost', weight: 0.3, hash: 'deadbeef0042' })]);
      expect((await call('GET', '/recipes', undefined, VIEWER)).body.total).toBe(0);
    });

    it('should create a recipe from an uploaded image, keep the image and serve it back', async () => {
      const image = png(8, 8, [tEXt('parameters', INFOTEXT)]);
      const res = await upload('/recipes/from-image?name=Lighthouse&tags=Coast,dusk', image);
      expect(res.status).toBe(201);
      fromImageId = res.body.id as string;
      expect(res.body).toMatchObject({ name: 'Lighthouse', tags: ['coast', 'dusk'], source: 'image', hasImage: true });
      expect(res.body.missing).toEqual([expect.objectContaining({ name: 'ghost', hash: 'deadbeef0042' })]);
      const served = await fetch(`${base}/api/v1/recipes/${fromImageId}/image`, { headers: { 'x-api-key': VIEWER } });
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await served.arrayBuffer()).equals(image)).toBe(true);
    });

    it('should serve a WebP thumbnail of the source image, revalidate it by ETag, and delete it with the recipe', async () => {
      const thumbnails = () => {
        const dir = join(stack.storageDir, 'thumbnails');
        return existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.webp')) : [];
      };
      const before = thumbnails().length;
      const created = await upload('/recipes/from-image?name=Thumbnailed', png(64, 32, [tEXt('parameters', INFOTEXT)]));
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const get = (path: string, headers: Record<string, string> = {}) =>
        fetch(`${base}/api/v1/recipes/${id}${path}`, { headers: { 'x-api-key': VIEWER, ...headers } });
      const small = await get('/thumbnail?size=256');
      expect(small.status).toBe(200);
      expect(small.headers.get('content-type')).toBe('image/webp');
      const facts = await sharp(Buffer.from(await small.arrayBuffer())).metadata();
      // Never enlarged: the source is 64 × 32.
      expect([facts.format, facts.width, facts.height]).toEqual(['webp', 64, 32]);
      const etag = small.headers.get('etag')!;
      expect((await get('/thumbnail?size=256', { 'if-none-match': etag })).status).toBe(304);
      expect((await get('/thumbnail?size=768')).status).toBe(200);
      expect(thumbnails()).toHaveLength(before + 2);
      const bad = await get('/thumbnail?size=100');
      expect(bad.status).toBe(400);

      const plain = await call('POST', '/recipes', { name: 'No picture', prompt: 'a cat' });
      const none = await fetch(`${base}/api/v1/recipes/${plain.body.id as string}/thumbnail`, {
        headers: { 'x-api-key': VIEWER },
      });
      expect([none.status, ((await none.json()) as { code: string }).code]).toEqual([404, 'recipe_image_not_found']);
      await call('DELETE', `/recipes/${plain.body.id as string}`);

      expect((await call('DELETE', `/recipes/${id}`)).status).toBe(204);
      expect(thumbnails()).toHaveLength(before);
    });

    it('should read ComfyUI graphs and the EXIF UserComment of JPEG and WebP', async () => {
      const comfy = await upload(
        '/recipes/parse-image',
        png(8, 8, [
          tEXt(
            'prompt',
            comfyPromptGraph([
              { file: 'sub/alpha.safetensors', strength: 0.65 },
              { file: 'nope.safetensors', strength: 1, modelOnly: true },
            ]),
          ),
        ]),
      );
      expect(comfy.status).toBe(200);
      expect(comfy.body).toMatchObject({
        origin: 'comfyui',
        prompt: 'a castle in the clouds',
        negativePrompt: 'lowres, watermark',
      });
      expect((comfy.body.loras as Lora[]).map((l) => [l.name, l.weight, l.adapterId])).toEqual([
        ['alpha', 0.65, adapters.alpha],
        ['nope', 1, null],
      ]);
      const exif = exifWithUserComment(INFOTEXT, 'unicode-be');
      for (const [bytes, type] of [
        [jpegWithExif(exif), 'image/jpeg'],
        [webpWithExif(exif), 'image/webp'],
      ] as const) {
        const res = await upload('/recipes/parse-image', bytes, type);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ origin: 'a1111', prompt: INFOTEXT.split('\n')[0] });
        expect((res.body.loras as Lora[]).filter((l) => l.adapterId)).toHaveLength(2);
      }
    });

    it('should create from scratch, search by name, tag and prompt text, page, update and delete', async () => {
      const made = await call('POST', '/recipes', {
        name: 'Fox portrait',
        tags: ['Portrait'],
        prompt: 'a fox in a suit',
        negativePrompt: 'blurry',
        parameters: { steps: 4, cfg_scale: 5 },
        loras: [
          { adapterId: adapters.beta, weight: 0.6 },
          { name: 'alpha', weight: 0.9 },
        ],
      });
      expect(made.status).toBe(201);
      expect((made.body.loras as Lora[]).map((l) => [l.name, l.adapterId, l.match])).toEqual([
        ['beta', adapters.beta, 'id'],
        ['alpha', adapters.alpha, 'name'],
      ]);
      const id = made.body.id as string;
      const search = async (query: string) => {
        const res = await call('GET', `/recipes?${query}`, undefined, VIEWER);
        expect(res.status).toBe(200);
        return (res.body.items as { name: string }[]).map((r) => r.name);
      };
      expect(await search('q=fox')).toEqual(['Fox portrait']);
      expect(await search('q=LIGHTHOUSE')).toEqual(['Lighthouse']);
      expect(await search('tag=portrait')).toEqual(['Fox portrait']);
      expect(await search('q=suit&tag=dusk')).toEqual([]);
      const page = await call('GET', '/recipes?limit=1&offset=1', undefined, VIEWER);
      expect(page.body).toMatchObject({
        total: 2,
        limit: 1,
        offset: 1,
        items: [expect.objectContaining({ name: 'Lighthouse' })],
      });

      const patched = await call('PATCH', `/recipes/${id}`, {
        name: 'Fox portrait v2',
        tags: ['a', 'A ', 'b'],
        notes: 'good',
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ name: 'Fox portrait v2', tags: ['a', 'b'], notes: 'good' });
      expect((await call('PATCH', `/recipes/${id}`, { name: 'x' }, VIEWER)).status).toBe(403);
      expect((await call('DELETE', `/recipes/${id}`)).status).toBe(204);
      expect((await call('GET', `/recipes/${id}`, undefined, VIEWER)).status).toBe(404);
    });

    it('should apply a recipe: compose in a dialect, and queue a generation that succeeds', async () => {
      const composed = await call('POST', `/recipes/${fromImageId}/compose`, { dialect: 'a1111' });
      expect(composed.status).toBe(200);
      const composition = composed.body.composition as { prompt: string; adapters: { id: string; weight: number }[] };
      expect(composition.prompt).toContain('a lighthouse at dusk');
      expect(composition.prompt).not.toContain('ghost');
      expect(composition.adapters.map((a) => [a.id, a.weight])).toEqual([
        [adapters.alpha, 0.8],
        [adapters.beta, 0.5],
      ]);
      expect(composed.body.missing).toEqual([expect.objectContaining({ name: 'ghost' })]);

      const generated = await call('POST', `/recipes/${fromImageId}/generate`, { keepSeed: true });
      expect(generated.status).toBe(201);
      const job = generated.body.job as { id: string };
      expect(await settle(job.id)).toMatchObject({ status: 'succeeded' });
      const sent = fake.generations.at(-1)!.params;
      expect(sent).toMatchObject({
        steps: 12,
        cfg_scale: 5.5,
        seed: 777,
        width: 512,
        height: 768,
        sampler_name: 'Euler a',
      });
    });

    it('should save a History result as a recipe with its LoRAs, settings and image', async () => {
      const queued = await call('POST', '/generation/queue-generation', {
        prompt: 'a harbour <lora:alpha:0.7>',
        steps: 3,
        seed: 99,
      });
      expect(queued.status).toBe(201);
      expect((await settle(queued.body.id as string)).status).toBe('succeeded');
      const results = await call('GET', '/results?limit=50', undefined, VIEWER);
      const result = (results.body.items as { id: string; jobId: string }[]).find((r) => r.jobId === queued.body.id)!;
      const res = await call('POST', '/recipes/from-result', { resultId: result.id, name: 'Harbour' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: 'Harbour', source: 'result', sourceResultId: result.id, hasImage: true });
      expect(res.body.parameters).toMatchObject({ steps: 3, seed: 99 });
      expect(res.body.loras).toEqual([
        expect.objectContaining({
          adapterId: adapters.alpha,
          name: 'alpha',
          weight: 0.7,
          sha256: ALPHA_SHA,
          match: 'id',
        }),
      ]);
      const missing = await call('POST', '/recipes/from-result', { resultId: '00000000-0000-4000-8000-000000000000' });
      expect(missing.status).toBe(404);
      expect(missing.body.code).toBe('result_not_found');
    });

    it('should export and import recipes as versioned JSON, relinking by hash after a re-import of the library', async () => {
      const exported = await call('GET', `/recipes/export?ids=${fromImageId}`, undefined, VIEWER);
      expect(exported.status).toBe(200);
      expect(exported.body).toMatchObject({ format: 'lora-manager.recipes', version: 1, imagesOmitted: [] });
      // The source image travels in the document, base64.
      const image = png(8, 8, [tEXt('parameters', INFOTEXT)]);
      const [document] = exported.body.recipes as { image?: { contentType: string; base64: string } }[];
      expect(document.image).toEqual({ contentType: 'image/png', base64: image.toString('base64') });
      // The library is re-imported: alpha's row is a tombstone and a new row has the same file hash.
      const newAlpha = await withDb(async (db, p) => {
        await db.exec(`UPDATE adapters SET missing_since = ${p(1)} WHERE id = ${p(2)}`, [
          db.pg ? new Date() : new Date().toISOString(),
          adapters.alpha,
        ]);
        const [id] = await seedAdapters(db, [
          { rootId: 'root00000001', relativePath: 'moved/alpha.safetensors', name: 'Alpha', sha256: ALPHA_SHA },
        ]);
        await db.exec(
          `UPDATE adapters SET lora_stem = 'alpha', lora_name = 'alpha', autov3 = ${p(1)} WHERE id = ${p(2)}`,
          [ALPHA_V3, id],
        );
        return id;
      });
      const relinked = await call('GET', `/recipes/${fromImageId}`, undefined, VIEWER);
      expect((relinked.body.loras as Lora[])[0]).toMatchObject({
        name: 'alpha_renamed',
        adapterId: newAlpha,
        match: 'hash',
      });

      const imported = await call('POST', '/recipes/import', exported.body);
      expect(imported.status).toBe(201);
      expect(imported.body).toMatchObject({ imported: 1 });
      const copyId = (imported.body.items as { id: string }[])[0].id;
      const copy = await call('GET', `/recipes/${copyId}`, undefined, VIEWER);
      expect(copy.body).toMatchObject({ source: 'import', name: 'Lighthouse', hasImage: true });
      const served = await fetch(`${base}/api/v1/recipes/${copyId}/image`, { headers: { 'x-api-key': VIEWER } });
      expect(served.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await served.arrayBuffer()).equals(image)).toBe(true);
      expect((copy.body.loras as Lora[]).map((l) => [l.name, l.adapterId])).toEqual([
        ['alpha_renamed', newAlpha],
        ['betaStyle', adapters.beta],
        ['ghost', null],
      ]);
      const withImage = (base64: string) => ({
        ...exported.body,
        recipes: [{ ...document, image: { contentType: 'image/png', base64 } }],
      });
      const notImage = await call('POST', '/recipes/import', withImage(Buffer.from('plain text').toString('base64')));
      expect(notImage.status).toBe(400);
      expect(notImage.body).toMatchObject({ code: 'not_an_image', details: [{ field: 'recipes[0].image.base64' }] });
      // Over the upload cap (1 MiB here) in a body over the general 1 MB JSON limit: refused by the import's own check.
      const huge = Buffer.concat([image, Buffer.alloc(1_200_000)]).toString('base64');
      const tooLarge = await call('POST', '/recipes/import', withImage(huge));
      expect(tooLarge.status).toBe(400);
      expect(tooLarge.body).toMatchObject({ code: 'image_too_large', details: [{ field: 'recipes[0].image.base64' }] });
      const wrong = await call('POST', '/recipes/import', { ...exported.body, version: 2 });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toMatchObject({ code: 'unsupported_version', details: [{ field: 'version' }] });
    });

    it('should answer bad uploads and bad input with a clear 4xx naming the field', async () => {
      const image = png(8, 8, [tEXt('parameters', INFOTEXT)]);
      const notImage = await upload('/recipes/parse-image', Buffer.from('just some text, not an image'));
      expect(notImage.status).toBe(400);
      expect(notImage.body).toMatchObject({ code: 'not_an_image', details: [{ field: 'image' }] });
      const truncated = await upload('/recipes/from-image', image.subarray(0, image.length - 20));
      expect(truncated.status).toBe(400);
      expect(truncated.body).toMatchObject({ code: 'truncated_image', details: [{ field: 'image' }] });
      const empty = await upload('/recipes/parse-image', Buffer.alloc(0));
      expect(empty.status).toBe(400);
      const json = await call('POST', '/recipes/parse-image', { image: 'x' });
      expect(json.status).toBe(400);
      expect(json.body).toMatchObject({ code: 'not_an_image' });
      const text = await upload('/recipes/parse-image', image, 'text/plain');
      expect(text.status).toBe(415);
      const tooBig = await upload('/recipes/parse-image', Buffer.concat([image, Buffer.alloc(1_100_000)]));
      expect(tooBig.status).toBe(413);
      expect(tooBig.body).toMatchObject({ code: 'payload_too_large' });

      // A 50,000 × 50,000 header: read without decoding, not kept.
      const bomb = png(50_000, 50_000, [tEXt('parameters', INFOTEXT)]);
      const bombPreview = await upload('/recipes/parse-image', bomb);
      expect(bombPreview.status).toBe(200);
      expect(bombPreview.body).toMatchObject({ image: { width: 50_000, height: 50_000 } });
      expect(bombPreview.body.warnings).toEqual([expect.objectContaining({ code: 'image_too_large' })]);
      const bombRecipe = await upload('/recipes/from-image', bomb);
      expect(bombRecipe.status).toBe(201);
      expect(bombRecipe.body.hasImage).toBe(false);

      const malformed = await upload(
        '/recipes/parse-image',
        png(8, 8, [
          tEXt('parameters', 'a <lora:ok:0.5> <lora::> <lora:x:abc> <lora:unclosed:1\nSteps: 1, Seed: 1, Size: 8x8'),
        ]),
      );
      expect(malformed.status).toBe(200);
      expect((malformed.body.loras as Lora[]).map((l) => l.name)).toEqual(['ok']);
      expect(malformed.body.warnings).toEqual([expect.objectContaining({ code: 'malformed_lora_token' })]);

      const many = Array.from({ length: 10_000 }, (_, i) => `<lora:l${i}:0.1>`).join(' ');
      const manyRes = await upload(
        '/recipes/parse-image',
        png(8, 8, [tEXt('parameters', `${many}\nSteps: 1, Seed: 1, Size: 8x8`)]),
      );
      expect(manyRes.status).toBe(200);
      expect(manyRes.body.loras).toHaveLength(200);
      expect(manyRes.body.warnings).toEqual([expect.objectContaining({ code: 'too_many_loras' })]);

      const tooManyLoras = Array.from({ length: 201 }, (_, i) => ({ name: `l${i}`, weight: 1 }));
      const cases: [string, string, unknown, string][] = [
        ['POST', '/recipes', { name: '' }, 'name'],
        ['POST', '/recipes', { name: 'x', loras: tooManyLoras }, 'loras'],
        ['POST', '/recipes', { name: 'x', loras: [{ weight: 1 }] }, 'loras[0]'],
        ['POST', '/recipes', { name: 'x', loras: [{ name: 'a', weight: 'heavy' }] }, 'weight'],
        ['POST', '/recipes', { name: 'x', parameters: 'steps' }, 'parameters'],
        ['POST', '/recipes/import', { version: 1, recipes: 'no' }, 'recipes'],
        ['GET', '/recipes?limit=0', undefined, 'limit'],
        ['GET', '/recipes/not-a-uuid', undefined, 'id'],
        ['POST', '/recipes/from-result', { resultId: 'not-a-uuid' }, 'resultId'],
      ];
      for (const [method, path, body, field] of cases) {
        const res = await call(method, path, body);
        expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
        expect(JSON.stringify(res.body.details)).toContain(field);
      }
    });
  });
}

recipesSuite('SQLite, embedded', async (sdnextUrl) => {
  const dir = tempDir('recipes-embedded');
  const port = await freePort();
  const env = {
    DATA_DIR: dir.path,
    PORT: String(port),
    SDNEXT_URL: sdnextUrl,
    API_KEYS: KEYS,
    RECIPE_IMAGE_MAX_MB: '1',
  };
  const api = new AppProcess('api', env, port).start();
  await api.waitReady('/health/ready', 120_000);
  return {
    api,
    databaseUrl: `sqlite:${join(dir.path, 'lora-manager.sqlite')}`,
    storageDir: join(dir.path, 'storage'),
    stop: async () => {
      await api.stop();
      dir.remove();
    },
  };
});

recipesSuite('PostgreSQL, scale-out worker', async (sdnextUrl) => {
  const dir = tempDir('recipes-scale');
  const redis = createRedisPrefix('recipes');
  const db = await createTestDatabase('recipes');
  const env = {
    DATA_DIR: dir.path,
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    SDNEXT_URL: sdnextUrl,
    API_KEYS: KEYS,
    RECIPE_IMAGE_MAX_MB: '1',
  };
  expect((await runCli(['migrate'], env)).code).toBe(0);
  const workerPort = await freePort();
  const worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
  const port = await freePort();
  const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
  await Promise.all([api.waitReady('/health/ready', 120_000), worker.waitReady('/health/ready', 120_000)]);
  return {
    api,
    databaseUrl: db.url,
    storageDir: join(dir.path, 'storage'),
    stop: async () => {
      await Promise.all([api.stop(), worker.stop()]);
      await redis.clear();
      await db.drop();
      dir.remove();
    },
  };
});
