import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { FakeSdNext, type FakeFlavour } from './fake-sdnext.js';

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test-only JSON access

const LORAS = [
  { relativePath: 'chars/alice.v1.safetensors', metadata: { ss_output_name: 'AliceOut', ss_network_dim: '32' } },
  { relativePath: 'styles/Watercolor.safetensors' },
];

describe(FakeSdNext.name, () => {
  describe('sdnext flavour', () => {
    let fake: FakeSdNext;
    let base: string;

    beforeAll(async () => {
      fake = new FakeSdNext({ flavour: 'sdnext', stepMs: 5, loras: LORAS });
      base = await fake.start();
    });
    afterAll(async () => {
      await fake.stop();
    });

    it('should report an idle progress with id 0 before any job', async () => {
      const reply = await call(base, 'GET', '/sdapi/v1/progress?skip_current_image=true');
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({
        id: 0,
        progress: 0,
        eta_relative: 0,
        state: {
          skipped: false,
          interrupted: false,
          job: '',
          job_count: 0,
          job_timestamp: '0',
          job_no: 0,
          sampling_step: 0,
          sampling_steps: 0,
        },
        current_image: null,
        textinfo: null,
      });
      expect(reply.headers.get('x-process-time')).toMatch(/^\d+\.\d{4}$/);
    });

    it('should run concurrent txt2img calls one at a time behind the global lock', async () => {
      const before = fake.generations.length;
      const replies = await Promise.all(
        ['one', 'two', 'three'].map((prompt) => call(base, 'POST', '/sdapi/v1/txt2img', { prompt, steps: 4 })),
      );
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(fake.maxConcurrent).toBe(1);
      const runs = fake.generations.slice(before);
      expect(runs.map((g) => g.prompt).sort()).toEqual(['one', 'three', 'two']);
      for (let i = 1; i < runs.length; i++) {
        expect(runs[i].startedAt).toBeGreaterThanOrEqual(runs[i - 1].endedAt ?? Infinity);
      }
    });

    it('should answer with bare base64 JPEG images and info as a JSON string with a resolved seed', async () => {
      const reply = await call(base, 'POST', '/sdapi/v1/txt2img', { prompt: 'a cat', seed: -1, steps: '3', n_iter: 2 });
      const body = reply.json as Json;
      expect(body.images).toHaveLength(2);
      expect(body.images[0]).toMatch(/^\/9j\//);
      expect(Buffer.from(body.images[0], 'base64').subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
      expect(typeof body.info).toBe('string');
      const info = JSON.parse(body.info) as Json;
      expect(info.seed).toBeGreaterThanOrEqual(0);
      expect(info.all_seeds).toEqual([info.seed, info.seed + 1]);
      expect(info.all_prompts).toEqual(['a cat', 'a cat']);
      expect(info.infotexts[0]).toContain(`Seed: ${info.seed}`);
      // "3" is coerced like pydantic does, and the echo carries every default.
      expect(body.parameters.steps).toBe(3);
      expect(body.parameters.width).toBe(1024);
      expect(body.parameters.seed).toBe(-1);
      expect(Object.keys(body.parameters)).toHaveLength(238);
    });

    it('should report Inference progress while sampling and 1.0 with an empty job afterwards', async () => {
      fake.setStepMs(20);
      const pending = call(base, 'POST', '/sdapi/v1/txt2img', { prompt: 'slow', steps: 10 });
      await fake.waitForStep(3);
      const during = (await call(base, 'GET', '/sdapi/v1/progress?skip_current_image=true')).json as Json;
      expect(during.state.job).toBe('Inference');
      expect(during.state.job_count).toBe(1);
      expect(during.state.sampling_steps).toBe(10);
      expect(during.state.sampling_step).toBeGreaterThanOrEqual(3);
      expect(during.progress).toBeCloseTo(during.state.sampling_step / 10, 2);
      expect(during.id).toMatch(/^[0-9a-f]{15}$/);
      expect(during.eta_relative).toBeGreaterThan(0);
      const status = (await call(base, 'GET', '/sdapi/v1/status')).json as Json;
      expect(status).toMatchObject({ status: 'running', task: 'Inference', steps: 10, queued: 0 });
      expect((await pending).status).toBe(200);
      fake.setStepMs(5);
      const after = (await call(base, 'GET', '/sdapi/v1/progress?skip_current_image=true')).json as Json;
      expect(after).toMatchObject({ id: '', progress: 1, eta_relative: 0 });
      expect(after.state).toMatchObject({ job: '', job_count: 0, sampling_step: 10, sampling_steps: 10 });
    });

    it('should stop a running job on interrupt (204) and still answer 200 with no image', async () => {
      fake.setStepMs(20);
      const pending = call(base, 'POST', '/sdapi/v1/txt2img', { prompt: 'to cancel', steps: 50 });
      await fake.waitForStep(2);
      const interrupt = await call(base, 'POST', '/sdapi/v1/interrupt');
      expect(interrupt.status).toBe(204);
      expect(interrupt.text).toBe('');
      const reply = await pending;
      fake.setStepMs(5);
      expect(reply.status).toBe(200);
      expect((reply.json as Json).images).toEqual([]);
      expect(fake.generations.at(-1)?.outcome).toBe('interrupted');
      const progress = (await call(base, 'GET', '/sdapi/v1/progress')).json as Json;
      expect(progress.state.interrupted).toBe(true);
      expect(progress.state.sampling_step).toBeLessThan(50);
    });

    it('should return the partial image on interrupt when a preview was polled', async () => {
      fake.setStepMs(20);
      const pending = call(base, 'POST', '/sdapi/v1/txt2img', { prompt: 'partial', steps: 50 });
      await fake.waitForStep(2);
      const progress = (await call(base, 'GET', '/sdapi/v1/progress?skip_current_image=false')).json as Json;
      expect(progress.current_image).toMatch(/^\/9j\//);
      await call(base, 'POST', '/sdapi/v1/interrupt');
      const reply = await pending;
      fake.setStepMs(5);
      expect((reply.json as Json).images).toHaveLength(1);
    });

    it('should lose an interrupt sent while idle', async () => {
      await call(base, 'POST', '/sdapi/v1/interrupt');
      const reply = await call(base, 'POST', '/sdapi/v1/txt2img', { prompt: 'after idle interrupt', steps: 2 });
      expect((reply.json as Json).images).toHaveLength(1);
      expect(fake.generations.at(-1)?.outcome).toBe('completed');
    });

    it('should answer 422 in the pydantic v2 shape for wrong types and null in non-nullable fields', async () => {
      const reply = await call(base, 'POST', '/sdapi/v1/txt2img', { steps: 'many', sampler_name: null, cfg_scale: 7 });
      expect(reply.status).toBe(422);
      expect((reply.json as Json).detail).toEqual([
        {
          type: 'int_parsing',
          loc: ['body', 'steps'],
          msg: 'Input should be a valid integer, unable to parse string as an integer',
          input: 'many',
        },
        { type: 'string_type', loc: ['body', 'sampler_name'], msg: 'Input should be a valid string', input: null },
      ]);
      const fractional = await call(base, 'POST', '/sdapi/v1/txt2img', { steps: 20.5 });
      expect((fractional.json as Json).detail[0].type).toBe('int_from_float');
    });

    it('should answer 404 in the middleware shape for an unknown sampler, and match names case-insensitively', async () => {
      const reply = await call(base, 'POST', '/sdapi/v1/txt2img', { sampler_name: 'DPM++ 2M Karras' });
      expect(reply.status).toBe(404);
      expect(reply.json).toEqual({
        error: 'HTTPException',
        code: 404,
        detail: 'Sampler not found',
        body: '',
        errors: '404: Sampler not found',
      });
      const ok = await call(base, 'POST', '/sdapi/v1/txt2img', { sampler_name: 'euler A', steps: 1 });
      expect(JSON.parse((ok.json as Json).info).sampler_name).toBe('Euler a');
    });

    it('should resolve LoRA names by mangled stem, natural stem and relative path only', async () => {
      const prompt =
        'x <lora:alice_v1:0.8> <lora:alice.v1:1> <lora:chars/alice.v1:1> <lora:AliceOut:1> <lora:watercolor:1> <lyco:Watercolor:1>';
      const reply = await call(base, 'POST', '/sdapi/v1/txt2img', { prompt, steps: 1 });
      expect(reply.status).toBe(200);
      const gen = fake.generations.at(-1);
      expect(gen?.resolved).toEqual(['alice_v1', 'alice.v1', 'chars/alice.v1']);
      expect(gen?.unresolved).toEqual(['AliceOut', 'watercolor']);
      expect(gen?.ignored).toEqual(['<lyco:Watercolor:1>']);
      const info = JSON.parse((reply.json as Json).info) as Json;
      expect(info.extra_generation_params).toEqual({ 'LoRA networks': 'alice_v1' });
      expect(info.prompt).toBe(prompt);
    });

    it('should list LoRAs with the mangled name, the ss_output_name alias and an absolute path', async () => {
      const reply = await call(base, 'GET', '/sdapi/v1/loras');
      expect(reply.json).toEqual([
        {
          name: 'alice_v1',
          alias: 'AliceOut',
          path: '/fake/sdnext/models/Lora/chars/alice.v1.safetensors',
          metadata: { ss_output_name: 'AliceOut', ss_network_dim: '32' },
        },
        {
          name: 'Watercolor',
          alias: 'Watercolor',
          path: '/fake/sdnext/models/Lora/styles/Watercolor.safetensors',
          metadata: {},
        },
      ]);
    });

    it('should show a newly added LoRA only after refresh-loras', async () => {
      fake.addLora({ relativePath: 'new.one.safetensors' });
      expect(((await call(base, 'GET', '/sdapi/v1/loras')).json as Json[]).map((l) => l.name)).not.toContain('new_one');
      const refresh = await call(base, 'POST', '/sdapi/v1/refresh-loras');
      expect(Object.keys(refresh.json as Json)).toContain('new_one');
      expect(((await call(base, 'GET', '/sdapi/v1/loras')).json as Json[]).map((l) => l.name)).toContain('new_one');
    });

    it('should switch the checkpoint through POST /options and report it in GET /options', async () => {
      const models = (await call(base, 'GET', '/sdapi/v1/sd-models')).json as Json[];
      const target = models[1];
      const reply = await call(base, 'POST', '/sdapi/v1/options', { sd_model_checkpoint: target.model_name });
      expect(reply.json).toEqual({ updated: [{ sd_model_checkpoint: true }] });
      expect(((await call(base, 'GET', '/sdapi/v1/options')).json as Json).sd_model_checkpoint).toBe(target.title);
    });

    it('should answer 200 with no images and an empty info for an unknown sd_model_checkpoint', async () => {
      const reply = await call(base, 'POST', '/sdapi/v1/txt2img', { sd_model_checkpoint: 'nope', steps: 1 });
      expect(reply.status).toBe(200);
      expect(reply.json).toMatchObject({ images: [], info: '' });
    });

    it('should inject failures: empty images, 500 body, 429 after the work was done, dropped socket', async () => {
      fake.failNext('empty-images');
      const empty = await call(base, 'POST', '/sdapi/v1/txt2img', { steps: 2 });
      expect(empty.status).toBe(200);
      expect(empty.json).toMatchObject({ images: [], info: '' });

      fake.failNext('http-500');
      const failed = await call(base, 'POST', '/sdapi/v1/txt2img', {});
      expect(failed.status).toBe(500);
      expect(failed.json).toMatchObject({ error: 'RuntimeError', code: 500, detail: '', body: '' });

      const before = fake.generations.length;
      fake.failNext('rate-limit');
      const limited = await call(base, 'POST', '/sdapi/v1/txt2img', { steps: 1 });
      expect(limited.status).toBe(429);
      expect((limited.json as Json).detail).toContain('rate limit exceeded');
      expect(fake.generations.length).toBe(before + 1);

      fake.failNext('drop-connection', '/sdapi/v1/progress');
      await expect(call(base, 'GET', '/sdapi/v1/progress')).rejects.toThrow();
      expect((await call(base, 'GET', '/sdapi/v1/progress')).status).toBe(200);
    });

    it('should gzip large responses for clients that accept it', async () => {
      const res = await fetch(`${base}/sdapi/v1/txt2img`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' },
        body: JSON.stringify({ steps: 1 }),
      });
      expect(res.headers.get('content-encoding')).toBe('gzip');
      expect(((await res.json()) as Json).images).toHaveLength(1);
    });

    it('should answer 404 Not Found for unknown routes and 405 for a wrong method', async () => {
      expect(await call(base, 'GET', '/sdapi/v1/nope')).toMatchObject({ status: 404, json: { detail: 'Not Found' } });
      expect((await call(base, 'GET', '/sdapi/v1/txt2img')).status).toBe(405);
    });
  });

  describe('a1111 flavour', () => {
    let fake: FakeSdNext;
    let base: string;

    beforeAll(async () => {
      fake = new FakeSdNext({ flavour: 'a1111', stepMs: 5, loras: LORAS });
      base = await fake.start();
    });
    afterAll(async () => {
      await fake.stop();
    });

    it('should answer 404 on /version and return PNG images', async () => {
      expect((await call(base, 'GET', '/sdapi/v1/version')).status).toBe(404);
      const reply = await call(base, 'POST', '/sdapi/v1/txt2img', { prompt: 'a cat', steps: 2 });
      const body = reply.json as Json;
      expect(body.images[0]).toMatch(/^iVBORw0KGgo/);
      expect(JSON.parse(body.info).version).toBe('v1.10.1');
      expect(body.parameters.width).toBe(512);
    });

    it('should report A1111 progress while sampling and 0 after the job', async () => {
      fake.setStepMs(20);
      const pending = call(base, 'POST', '/sdapi/v1/txt2img', { prompt: 'slow', steps: 10 });
      await fake.waitForStep(2);
      const during = (await call(base, 'GET', '/sdapi/v1/progress')).json as Json;
      expect(during).not.toHaveProperty('id');
      expect(during.state).toHaveProperty('stopping_generation', false);
      expect(during.state.job).toBe('scripts_txt2img');
      expect(during.progress).toBeCloseTo(0.01 + during.state.sampling_step / 10, 5);
      await pending;
      fake.setStepMs(5);
      const after = (await call(base, 'GET', '/sdapi/v1/progress')).json as Json;
      expect(after).toMatchObject({ progress: 0, eta_relative: 0 });
      expect(after.state).toMatchObject({ job: '', job_count: 0, sampling_step: 10 });
    });

    it('should answer interrupt with 200 {} and skip with 200 null', async () => {
      expect(await call(base, 'POST', '/sdapi/v1/interrupt')).toMatchObject({ status: 200, json: {} });
      expect(await call(base, 'POST', '/sdapi/v1/skip')).toMatchObject({ status: 200, text: 'null' });
    });

    it('should resolve LoRA names by stem and ss_output_name alias, and treat lyco as lora', async () => {
      const prompt =
        '<lora:alice.v1:1> <lora:AliceOut:1> <lora:alice_v1:1> <lora:chars/alice.v1:1> <lyco:Watercolor:1>';
      await call(base, 'POST', '/sdapi/v1/txt2img', { prompt, steps: 1 });
      const gen = fake.generations.at(-1);
      expect(gen?.resolved).toEqual(['alice.v1', 'AliceOut', 'Watercolor']);
      expect(gen?.unresolved).toEqual(['alice_v1', 'chars/alice.v1']);
      const loras = (await call(base, 'GET', '/sdapi/v1/loras')).json as Json[];
      expect(loras.map((l) => [l.name, l.alias])).toEqual([
        ['alice.v1', 'AliceOut'],
        ['Watercolor', 'Watercolor'],
      ]);
    });

    it('should answer 422 in the pydantic v1 shape and 400 for an unknown sampler', async () => {
      const reply = await call(base, 'POST', '/sdapi/v1/txt2img', { steps: 'many' });
      expect(reply.json).toEqual({
        detail: [{ loc: ['body', 'steps'], msg: 'value is not a valid integer', type: 'type_error.integer' }],
      });
      const sampler = await call(base, 'POST', '/sdapi/v1/txt2img', { sampler_name: 'Nope' });
      expect(sampler.status).toBe(400);
      expect(sampler.json).not.toHaveProperty('code');
    });
  });

  describe.each<FakeFlavour>(['sdnext', 'a1111'])('auth on %s', (flavour) => {
    let fake: FakeSdNext;
    let base: string;
    const basic = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });

    beforeAll(async () => {
      fake = new FakeSdNext({ flavour, auth: { user: 'alice', password: 'se:cret' }, stepMs: 0 });
      base = await fake.start();
    });
    afterAll(async () => {
      await fake.stop();
    });

    it('should answer 401 without a WWW-Authenticate header when credentials are missing or wrong', async () => {
      const missing = await call(base, 'GET', '/sdapi/v1/progress');
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBeNull();
      expect((missing.json as Json).detail).toBe('Not authenticated');
      const wrong = await call(base, 'POST', '/sdapi/v1/txt2img', {}, basic('alice', 'nope'));
      expect(wrong.status).toBe(401);
      expect((wrong.json as Json).detail).toBe(
        flavour === 'sdnext' ? 'Unauthorized' : 'Incorrect username or password',
      );
      expect(fake.generations).toHaveLength(0);
    });

    it('should accept the right credentials, with a colon in the password', async () => {
      const ok = await call(base, 'POST', '/sdapi/v1/txt2img', { steps: 1 }, basic('alice', 'se:cret'));
      expect(ok.status).toBe(200);
    });
  });
});
