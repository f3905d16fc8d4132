import { createServer } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { FakeSdNext } from '../../../../test/support/fake-sdnext.js';
import { tinyJpeg, tinyPng, tinyWebp } from '../../../../test/support/images.js';
import { sniffImageType } from './image-sniff.js';
import { SdNextClient } from './sdnext.client.js';
import { SdNextError, SdNextErrorKind } from './sdnext.errors.js';
import { SdBackendFlavour, SdImageContentType, type Txt2ImgParams } from './sdnext.types.js';

const USER = 'alice';
const PASSWORD = 'pa:ss-w0rd-secret';
const LORAS = [
  { relativePath: 'chars/alice.v1.safetensors', metadata: { ss_output_name: 'AliceOut' } },
  { relativePath: 'Watercolor.safetensors' },
];

/** Lets a test send values of the wrong type on purpose, to see the server's validation. */
const untyped = (params: Record<string, unknown>): Txt2ImgParams => params;

/** Awaits a rejection and returns it as an SdNextError (fails the test if the call resolved). */
async function failure(promise: Promise<unknown>): Promise<SdNextError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SdNextError);
  return error as SdNextError;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe(SdNextClient.name, () => {
  describe('against SD.Next', () => {
    let fake: FakeSdNext;
    let base: string;
    let client: SdNextClient;

    beforeAll(async () => {
      fake = new FakeSdNext({ flavour: 'sdnext', auth: { user: USER, password: PASSWORD }, stepMs: 5, loras: LORAS });
      base = await fake.start();
      client = new SdNextClient({ baseUrl: base, auth: `${USER}:${PASSWORD}` });
    });
    afterAll(async () => {
      await fake.stop();
    });

    it('should probe the flavour, version and loaded checkpoint', async () => {
      const probe = await client.probe();
      expect(probe).toEqual({
        reachable: true,
        flavour: SdBackendFlavour.SdNext,
        version: '058a7f0cf',
        currentModel: fake.currentCheckpoint,
      });
    });

    it('should return decoded JPEG images, info parsed twice and the resolved seed', async () => {
      const result = await client.txt2img({ prompt: 'a cat <lora:alice_v1:0.7>', seed: -1, steps: 3, batch_size: 2 });
      expect(result.images).toHaveLength(2);
      expect(result.images[0].contentType).toBe(SdImageContentType.Jpeg);
      expect(result.images[0].bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
      expect(result.seed).toBe(result.info.seed);
      expect(result.seed).toBeGreaterThanOrEqual(0);
      expect(result.seeds).toEqual([result.seed, (result.seed ?? 0) + 1]);
      expect(result.info.extra_generation_params).toEqual({ 'LoRA networks': 'alice_v1' });
      expect(result.parameters).toMatchObject({ prompt: 'a cat <lora:alice_v1:0.7>', steps: 3 });
      expect(typeof result.infoText).toBe('string');
      expect(fake.generations.at(-1)?.resolved).toEqual(['alice_v1']);
    });

    it('should report normalised progress while sampling and SD.Next’s 1.0 afterwards', async () => {
      fake.setStepMs(20);
      const pending = client.txt2img({ prompt: 'slow', steps: 10 });
      await fake.waitForStep(3);
      const during = await client.progress();
      expect(during).toMatchObject({ job: 'Inference', jobCount: 1, steps: 10, interrupted: false });
      expect(during.step).toBeGreaterThanOrEqual(3);
      expect(during.progress).toBeCloseTo(during.step / 10, 2);
      expect(during.etaSeconds).toBeGreaterThan(0);
      expect(during.phaseId).toMatch(/^[0-9a-f]{15}$/);
      await pending;
      fake.setStepMs(5);
      const after = await client.progress();
      expect(after).toMatchObject({ progress: 1, job: '', jobCount: 0, step: 10, etaSeconds: null, phaseId: null });
    });

    it('should interrupt a running generation, which then answers with no image', async () => {
      fake.setStepMs(20);
      const allowed = client.txt2img({ prompt: 'cancel me', steps: 50 }, { allowEmpty: true });
      await fake.waitForStep(2);
      await client.interrupt();
      const result = await allowed;
      expect(result.images).toEqual([]);
      expect((await client.progress()).interrupted).toBe(true);

      const strict = client.txt2img({ prompt: 'cancel me too', steps: 50 });
      await fake.waitForStep(2);
      await client.interrupt();
      const error = await failure(strict);
      fake.setStepMs(5);
      expect(error.kind).toBe(SdNextErrorKind.EmptyResult);
      expect(error.message).toContain('generation produced no images');
      expect(error.retryable).toBe(false);
    });

    it('should skip the current batch iteration', async () => {
      fake.setStepMs(20);
      const pending = client.txt2img({ prompt: 'two batches', steps: 10, n_iter: 2 });
      await fake.waitForStep(2);
      await client.skip();
      const result = await pending;
      fake.setStepMs(5);
      expect(result.images).toHaveLength(1);
    });

    it('should list LoRAs, samplers and models', async () => {
      expect(await client.loras()).toEqual([
        {
          name: 'alice_v1',
          alias: 'AliceOut',
          path: '/fake/sdnext/models/Lora/chars/alice.v1.safetensors',
          metadata: { ss_output_name: 'AliceOut' },
        },
        {
          name: 'Watercolor',
          alias: 'Watercolor',
          path: '/fake/sdnext/models/Lora/Watercolor.safetensors',
          metadata: {},
        },
      ]);
      fake.addLora({ relativePath: 'late.addition.safetensors' });
      await client.refreshLoras();
      expect((await client.loras()).map((l) => l.name)).toContain('late_addition');
      const samplers = await client.samplers();
      expect(samplers.map((s) => s.name)).toContain('Euler a');
      const models = await client.models();
      expect(models[0]).toMatchObject({
        title: fake.currentCheckpoint,
        modelName: 'sdxl/juggernautXL_v9',
        type: 'safetensors',
      });
      expect(models[0].hash).toMatch(/^[0-9a-f]{10}$/);
    });

    it('should fail with Unauthorized, without leaking the password, when credentials are missing or wrong', async () => {
      const anonymous = new SdNextClient({ baseUrl: base });
      const probe = await anonymous.probe();
      expect(probe.reachable).toBe(true);
      expect(probe.error?.kind).toBe(SdNextErrorKind.Unauthorized);

      const wrong = new SdNextClient({ baseUrl: base, auth: { user: USER, password: 'wrong-secret' } });
      const error = await failure(wrong.txt2img({ prompt: 'x' }));
      expect(error).toMatchObject({ kind: SdNextErrorKind.Unauthorized, status: 401, retryable: false });
      expect(error.message).toContain('Unauthorized');
      expect(`${error.message} ${error.stack ?? ''}`).not.toContain('wrong-secret');
    });

    it('should accept credentials in the base URL and never show them', async () => {
      const url = new URL(base);
      url.username = USER;
      url.password = encodeURIComponent(PASSWORD);
      const inUrl = new SdNextClient({ baseUrl: url.href });
      expect(inUrl.displayUrl).toBe(base);
      expect((await inUrl.progress()).progress).toBeGreaterThanOrEqual(0);
    });

    it('should fail with NotFound for an unknown sampler', async () => {
      const error = await failure(client.txt2img({ sampler_name: 'DPM++ 2M Karras' }));
      expect(error).toMatchObject({ kind: SdNextErrorKind.NotFound, status: 404, endpoint: 'POST /sdapi/v1/txt2img' });
      expect(error.message).toContain('Sampler not found');
    });

    it('should fail with Validation and flatten FastAPI’s detail list into field messages', async () => {
      const error = await failure(client.txt2img(untyped({ steps: 'twenty', override_settings: 'x' })));
      expect(error.kind).toBe(SdNextErrorKind.Validation);
      expect(error.details).toEqual([
        'steps: Input should be a valid integer, unable to parse string as an integer',
        'override_settings: Input should be a valid dictionary',
      ]);
      expect(error.message).toContain('steps: Input should be a valid integer');
    });

    it('should fail with RateLimited, not retryable because the work was done', async () => {
      const before = fake.generations.length;
      fake.failNext('rate-limit');
      const error = await failure(client.txt2img({ steps: 1 }));
      expect(error).toMatchObject({ kind: SdNextErrorKind.RateLimited, status: 429, retryable: false });
      expect(fake.generations.length).toBe(before + 1);
    });

    it('should fail with ServerError and read the middleware body and the bare-string body', async () => {
      fake.failNext('http-500');
      const middleware = await failure(client.txt2img({ steps: 1 }));
      expect(middleware).toMatchObject({ kind: SdNextErrorKind.ServerError, status: 500 });
      expect(middleware.message).toContain('RuntimeError: CUDA out of memory');

      fake.failNext('type-error-500', '/sdapi/v1/loras');
      const bare = await failure(client.loras());
      expect(bare.kind).toBe(SdNextErrorKind.ServerError);
      expect(bare.message).toContain("unsupported operand type(s) for +: 'int' and 'NoneType'");
    });

    it('should fail with EmptyResult on 200 without images, unless empty results are allowed', async () => {
      fake.failNext('empty-images');
      const error = await failure(client.txt2img({ steps: 2 }));
      expect(error).toMatchObject({ kind: SdNextErrorKind.EmptyResult, status: 200, retryable: false });
      fake.failNext('model-not-found');
      const allowed = await client.txt2img({ steps: 2 }, { allowEmpty: true });
      expect(allowed).toMatchObject({ images: [], info: {}, infoText: '', seed: null });
      const notSent = await client.txt2img({ steps: 1, send_images: false });
      expect(notSent.images).toEqual([]);
    });

    it('should fail with Timeout when no answer comes in time, on txt2img and on short calls', async () => {
      const impatient = new SdNextClient({
        baseUrl: base,
        auth: { user: USER, password: PASSWORD },
        requestTimeoutMs: 200,
        shortTimeoutMs: 150,
      });
      fake.failNext('hang');
      const started = Date.now();
      const error = await failure(impatient.txt2img({ steps: 1 }));
      expect(error).toMatchObject({ kind: SdNextErrorKind.Timeout, retryable: false });
      expect(error.message).toContain('may still be running');
      expect(Date.now() - started).toBeLessThan(2000);

      fake.failNext('hang', '/sdapi/v1/progress');
      expect((await failure(impatient.progress())).kind).toBe(SdNextErrorKind.Timeout);
    });

    it('should fail with ConnectionReset, not retryable, when the connection drops after sending', async () => {
      fake.failNext('drop-connection');
      const error = await failure(client.txt2img({ steps: 1 }));
      expect(error).toMatchObject({ kind: SdNextErrorKind.ConnectionReset, retryable: false });
      expect(error.message).toContain('may have run');
    });

    it('should fail with Aborted when the caller’s signal fires', async () => {
      fake.setStepMs(20);
      const controller = new AbortController();
      const pending = client.txt2img({ steps: 20 }, { signal: controller.signal });
      await fake.waitForStep(1);
      controller.abort();
      const error = await failure(pending);
      await client.interrupt();
      fake.setStepMs(5);
      expect(error.kind).toBe(SdNextErrorKind.Aborted);
    });
  });

  describe('against A1111', () => {
    let fake: FakeSdNext;
    let client: SdNextClient;

    beforeAll(async () => {
      fake = new FakeSdNext({ flavour: 'a1111', stepMs: 5, loras: LORAS });
      client = new SdNextClient({ baseUrl: await fake.start() });
    });
    afterAll(async () => {
      await fake.stop();
    });

    it('should probe A1111 through the 404 on /version', async () => {
      const probe = await client.probe();
      expect(probe).toEqual({
        reachable: true,
        flavour: SdBackendFlavour.A1111,
        version: undefined,
        currentModel: fake.currentCheckpoint,
      });
    });

    it('should read A1111 progress without a phase id and accept its 200 answers to interrupt and skip', async () => {
      fake.setStepMs(20);
      const pending = client.txt2img({ prompt: 'a cat', steps: 5 }, { allowEmpty: true });
      await fake.waitForStep(2);
      expect(await client.progress()).toMatchObject({ job: 'scripts_txt2img', phaseId: null, steps: 5 });
      await expect(client.skip()).resolves.toBeUndefined();
      await expect(client.interrupt()).resolves.toBeUndefined();
      const result = await pending;
      fake.setStepMs(5);
      expect(result.images).toEqual([]);
    });

    it('should sniff PNG images and read 0 progress after the job', async () => {
      const done = await client.txt2img({ steps: 1 });
      expect(done.images[0].contentType).toBe(SdImageContentType.Png);
      expect((await client.progress()).progress).toBe(0);
    });

    it('should fail with BadRequest for an unknown sampler (A1111 ≥ 1.9)', async () => {
      const error = await failure(client.txt2img({ sampler_name: 'Nope' }));
      expect(error).toMatchObject({ kind: SdNextErrorKind.BadRequest, status: 400 });
      expect(error.message).toContain('Sampler not found');
    });

    it('should flatten A1111’s pydantic v1 validation errors', async () => {
      const error = await failure(client.txt2img(untyped({ steps: 'x' })));
      expect(error.details).toEqual(['steps: value is not a valid integer']);
    });
  });

  describe('content types and connection failures', () => {
    it('should sniff WebP from the bytes SD.Next sends when samples_format is webp', async () => {
      const fake = new FakeSdNext({ flavour: 'sdnext', imageFormat: 'webp', stepMs: 0 });
      try {
        const client = new SdNextClient({ baseUrl: await fake.start() });
        const result = await client.txt2img({ steps: 1 });
        expect(result.images[0].contentType).toBe(SdImageContentType.Webp);
      } finally {
        await fake.stop();
      }
    });

    it('should sniff each format from magic bytes and never assume one', () => {
      expect(sniffImageType(tinyJpeg())).toBe(SdImageContentType.Jpeg);
      expect(sniffImageType(tinyPng())).toBe(SdImageContentType.Png);
      expect(sniffImageType(tinyWebp())).toBe(SdImageContentType.Webp);
      expect(sniffImageType(Buffer.from('GIF89a'))).toBe(SdImageContentType.Unknown);
      expect(sniffImageType(Buffer.alloc(0))).toBe(SdImageContentType.Unknown);
    });

    it('should fail with Unreachable, retryable, when nothing listens, and say so in probe', async () => {
      const port = await closedPort();
      const client = new SdNextClient({ baseUrl: `http://${USER}:${PASSWORD}@127.0.0.1:${port}` });
      const error = await failure(client.txt2img({ prompt: 'x' }));
      expect(error).toMatchObject({ kind: SdNextErrorKind.Unreachable, retryable: true });
      expect(error.message).toContain('ECONNREFUSED');
      expect(error.message).not.toContain(PASSWORD);
      const probe = await client.probe();
      expect(probe).toMatchObject({ reachable: false, flavour: SdBackendFlavour.Unknown });
      expect(probe.error?.kind).toBe(SdNextErrorKind.Unreachable);
    });

    it('should refuse a malformed base URL or auth without echoing it', () => {
      expect(() => new SdNextClient({ baseUrl: 'not a url secret' })).toThrow('SD.Next base URL is not a valid URL');
      expect(() => new SdNextClient({ baseUrl: 'http://127.0.0.1:1', auth: 'no-colon-secret' })).toThrow(SdNextError);
    });
  });

  describe('answers larger than the cap', () => {
    let fake: FakeSdNext;
    let client: SdNextClient;

    beforeAll(async () => {
      fake = new FakeSdNext({ flavour: 'sdnext', stepMs: 1 });
      client = new SdNextClient({ baseUrl: await fake.start(), maxResponseBytes: 1024 * 1024 });
    });
    afterAll(async () => {
      await fake.stop();
    });

    it('should stop inflating a gzip bomb at the cap and fail with ResponseTooLarge', async () => {
      fake.failNext('gzip-bomb');
      const error = await failure(client.txt2img({ prompt: 'x', steps: 1 }));
      expect(error).toMatchObject({
        kind: SdNextErrorKind.ResponseTooLarge,
        endpoint: 'POST /sdapi/v1/txt2img',
        status: 200,
      });
      expect(error.message).toContain('larger than 1048576 bytes gzip-decoded');
    });

    it('should hang up on an answer that never ends once it passes the cap', async () => {
      fake.failNext('endless-body', '/sdapi/v1/options');
      const probe = await client.probe();
      expect(probe.error).toMatchObject({ kind: SdNextErrorKind.ResponseTooLarge, status: 200 });
      expect(probe.error?.message).toContain('larger than 1048576 bytes sent');
    });

    it('should still take an ordinary answer, and refuse a cap that is not positive', async () => {
      const result = await client.txt2img({ prompt: 'fine', steps: 1 });
      expect(result.images).toHaveLength(1);
      expect(() => new SdNextClient({ baseUrl: 'http://127.0.0.1:1', maxResponseBytes: 0 })).toThrow(
        /maxResponseBytes/,
      );
    });
  });
});
