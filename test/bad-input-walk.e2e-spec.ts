import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSeedDb, type SeedDb, seedAdapters } from './support/adapter-seed.js';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import {
  allowOf,
  type ApiDocument,
  BadInputGenerator,
  type BadRequest,
  type Expectation,
  operationsOf,
} from './support/bad-input.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { createDialectDatabase, tempDir } from './support/test-services.js';

const ADMIN = 'walk-admin-key-0123456789abcdef';
const DIALECTS = [
  { name: 'SQLite', pg: false },
  { name: 'PostgreSQL', pg: true },
];

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface ErrorBody {
  statusCode?: unknown;
  error?: unknown;
  message?: unknown;
  code?: unknown;
  details?: { field: string; message: string }[];
}

/** Raw HTTP (no URL normalisation, any body, any header), over keep-alive connections. */
function send(base: URL, agent: Agent, req: Pick<BadRequest, 'method' | 'path' | 'headers' | 'body'>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    const r = httpRequest(
      { host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Whether `details` names the field (or a field inside it, or the object that holds it). */
const names = (details: ErrorBody['details'], field: string): boolean =>
  (details ?? []).some(
    (d) =>
      d.field === field ||
      [`${field}.`, `${field}[`].some((p) => d.field.startsWith(p)) ||
      [`${d.field}.`, `${d.field}[`].some((p) => field.startsWith(p)),
  );

/** What is wrong with an answer, or undefined when it is what the expectation says. */
function problemWith(req: BadRequest, answer: Answer): string | undefined {
  const { status } = answer;
  if (status >= 500) return `answered ${status}: ${answer.text.slice(0, 200)}`;
  const expect: Expectation = req.expect;
  if (expect.status && !expect.status.includes(status))
    return `answered ${status}, expected ${expect.status.join('/')}: ${answer.text.slice(0, 300)}`;
  if (status < 400 || req.method === 'HEAD') return undefined;
  let body: ErrorBody;
  try {
    body = JSON.parse(answer.text) as ErrorBody;
  } catch {
    return `answered ${status} without a JSON body: ${answer.text.slice(0, 100)}`;
  }
  if (
    body.statusCode !== status ||
    typeof body.error !== 'string' ||
    typeof body.message !== 'string' ||
    typeof body.code !== 'string'
  ) {
    return `answered ${status} with a body that is not the error body: ${answer.text.slice(0, 200)}`;
  }
  const missing = (expect.fields ?? []).filter((f) => !names(body.details, f));
  if (missing.length) return `400 does not name ${missing.join(', ')}: ${answer.text.slice(0, 300)}`;
  if (expect.code && body.code !== expect.code) return `code ${String(body.code)}, expected ${expect.code}`;
  if (expect.allow && answer.headers.allow !== expect.allow)
    return `Allow ${String(answer.headers.allow)}, expected ${expect.allow}`;
  return undefined;
}

/** Every table's rows, as a digest per table: equal digests mean no row was added, removed or changed. */
/** Columns a running process rewrites by itself (its heartbeat every 5 s): not a change a request made. */
const LIVENESS_COLUMNS: Record<string, string> = { process_heartbeats: 'beat_at' };

async function digestTables(db: SeedDb): Promise<Record<string, string>> {
  const tables = await db.query<{ name: string }>(
    db.pg
      ? `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`
      : `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const rows = (await db.query<Record<string, unknown>>(`SELECT * FROM "${name}"`))
      .map((r) => JSON.stringify({ ...r, [LIVENESS_COLUMNS[name] ?? '']: undefined }))
      .sort();
    out[name] = `${rows.length}:${createHash('sha256').update(rows.join('\n')).digest('hex').slice(0, 16)}`;
  }
  return out;
}

async function runAll(
  base: URL,
  agent: Agent,
  requests: BadRequest[],
  concurrency: number,
): Promise<{ problems: string[]; fiveXX: number }> {
  const problems: string[] = [];
  let fiveXX = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const req = requests[next++];
      const answer = await send(base, agent, req);
      if (answer.status >= 500) fiveXX++;
      const problem = problemWith(req, answer);
      if (problem) problems.push(`${req.label}: ${problem}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { problems, fiveXX };
}

describe.each(DIALECTS)('bad input walk over the OpenAPI document on $name', ({ pg: isPg }) => {
  const dir = tempDir(isPg ? 'walk-pg' : 'walk-sqlite');
  const root = join(dir.path, 'loras');
  const sd = new FakeSdNext({ flavour: 'sdnext', stepMs: 1 });
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const auth = { 'x-api-key': ADMIN };
  let api: AppProcess;
  let db: SeedDb;
  let dropDb: (() => Promise<void>) | undefined;
  let base: URL;
  let document: ApiDocument;
  const ids = { adapter: '', generation: '', delivery: '', importRun: '', diagnostic: '' };

  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const answer = await send(base, agent, {
      method,
      path,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: answer.status, body: answer.text ? (JSON.parse(answer.text) as Record<string, unknown>) : {} };
  };
  const created = async (path: string, body: unknown): Promise<string> => {
    const res = await call('POST', path, body);
    expect([200, 201]).toContain(res.status);
    return res.body.id as string;
  };
  const settle = async (path: string, done: string[]): Promise<void> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await call('GET', path);
      if (done.includes(res.body.status as string)) return;
      if (Date.now() > deadline) throw new Error(`${path} still ${String(res.body.status)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const realValue = (template: string, name: string): string => {
    if (name === 'index') return '0';
    if (name === 'name') return 'diagnostic';
    if (template.includes('/adapters/')) return ids.adapter;
    if (template.includes('/deliveries/')) return ids.delivery;
    if (template.includes('/generation/')) return ids.generation;
    if (template.includes('/imports/')) return ids.importRun;
    if (template.includes('/jobs/')) return ids.diagnostic;
    return randomUUID();
  };

  beforeAll(async () => {
    mkdirSync(root, { recursive: true });
    const sdUrl = await sd.start();
    const port = await freePort();
    const { url, drop } = await createDialectDatabase(isPg, 'bad_input_walk', dir.path);
    dropDb = drop;
    const env = {
      DATA_DIR: join(dir.path, 'data'),
      DATABASE_URL: url,
      LORA_ROOTS: root,
      PORT: String(port),
      API_KEYS: `${ADMIN}:admin`,
      SDNEXT_URL: sdUrl,
    };
    if (isPg) expect((await runCli(['migrate'], env)).code).toBe(0);
    api = new AppProcess('api', env, port).start();
    await api.waitReady();
    base = new URL(api.baseUrl);
    db = await openSeedDb(url);
    [ids.adapter] = await seedAdapters(db, [
      { rootId: 'root00000001', relativePath: 'walk.safetensors', name: 'walk', tags: ['walk'] },
    ]);
    // One finished row of every kind, so path parameters can name real rows: a bad request wrongly accepted would change them.
    ids.generation = await created('/api/v1/generation/queue-generation', { prompt: 'a walk', steps: 2 });
    await settle(`/api/v1/generation/jobs/${ids.generation}`, ['succeeded', 'failed', 'cancelled']);
    ids.delivery = await created('/api/v1/deliveries', {
      mode: 'sdnext',
      prompt: 'a delivered walk',
      params: { steps: 2 },
    });
    await settle(`/api/v1/deliveries/${ids.delivery}`, ['succeeded', 'failed', 'cancelled']);
    ids.importRun = await created('/api/v1/imports', { dryRun: true });
    await settle(`/api/v1/imports/${ids.importRun}`, ['completed', 'failed']);
    ids.diagnostic = await created('/api/v1/jobs/diagnostic', { steps: 1, stepMs: 0 });
    await settle(`/api/v1/jobs/diagnostic/${ids.diagnostic}`, ['completed', 'failed', 'cancelled']);
    document = (await call('GET', '/docs-json')).body as unknown as ApiDocument;
  }, 120_000);

  afterAll(async () => {
    agent.destroy();
    await db?.close();
    await api?.stop();
    await sd.stop();
    await dropDb?.();
    dir.remove();
  });

  it('should answer every generated bad request with the 4xx it names, and change no row', async () => {
    const generator = new BadInputGenerator(document, realValue, auth);
    const operations = operationsOf(document);
    const requests = operations.flatMap((op) => generator.forOperation(op));
    for (const template of Object.keys(document.paths)) {
      const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => realValue(template, name));
      // A path answers what every template matching it answers (`/adapters/tags` also matches `/adapters/{id}`).
      const matching = Object.keys(document.paths).filter((t) =>
        new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
      );
      const allow = [...new Set(matching.flatMap((t) => allowOf(document, t)))].sort();
      const wrong = ['PUT', 'PATCH', 'DELETE', 'POST', 'GET'].find((m) => !allow.includes(m));
      if (!wrong) continue;
      requests.push({
        label: `${wrong} ${template}: wrong method`,
        method: wrong,
        path,
        headers: auth,
        expect: { status: [405], code: 'method_not_allowed', allow: allow.join(', ') },
      });
    }
    for (const path of [
      '/foo',
      '/health/live/x',
      '/api',
      '/api/v1',
      '/api/v1/nope',
      '/api/v2/adapters',
      '/api/v1/adapters/a/b/c',
      '/docs-jsonx',
    ]) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        requests.push({
          label: `${method} ${path}: unknown path`,
          method,
          path,
          headers: auth,
          expect: { status: [404], code: 'not_found' },
        });
      }
    }
    // Every whole-number query parameter declares its bounds (an enum or a maximum), so a huge value is a 400.
    const unbounded = operations.flatMap((op) =>
      (op.operation.parameters ?? [])
        .filter((p) => p.in === 'query')
        .map((p) => ({ name: `${op.method} ${op.template} ${p.name}`, schema: generator.resolve(p.schema) }))
        .filter(
          ({ schema }) =>
            ['number', 'integer'].includes(schema.type ?? '') && !schema.enum && schema.maximum === undefined,
        )
        .map(({ name }) => name),
    );
    expect(unbounded).toEqual([]);

    const before = await digestTables(db);
    const started = Date.now();
    const { problems, fiveXX } = await runAll(base, agent, requests, 6);
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(
      `bad-input walk (${isPg ? 'PostgreSQL' : 'SQLite'}): ${requests.length} requests over ${operations.length} operations ` +
        `(${requests.filter((r) => r.expect.status).length} with an exact status), ` +
        `${fiveXX} answered 5xx, ${problems.length} unexpected, ${seconds.toFixed(1)} s\n`,
    );
    expect(problems).toEqual([]);
    expect(fiveXX).toBe(0);
    expect(requests.length).toBeGreaterThanOrEqual(1000);
    expect((await send(base, agent, { method: 'GET', path: '/health/ready', headers: {} })).status).toBe(200);
    expect(await digestTables(db)).toEqual(before);
  }, 180_000);

  it('should refuse the same bad requests without a key: 401 on the API, never a 5xx', async () => {
    const generator = new BadInputGenerator(document, realValue, {});
    const requests: BadRequest[] = [];
    for (const op of operationsOf(document)) {
      // Open routes: declared so (`security: []`), the probes outside /api, and the session routes that take the key.
      const open =
        op.operation.security?.length === 0 || !op.template.startsWith('/api/') || op.template === '/api/v1/session';
      const path = op.template.replace(/\{([^}]+)\}/g, (_, name: string) => realValue(op.template, name));
      requests.push({
        label: `${op.method} ${op.template}: no key`,
        method: op.method,
        path,
        headers: {},
        expect: open ? {} : { status: [401] },
      });
      // Bad input without a key: refused either way, before anything runs.
      for (const req of generator.forOperation(op).slice(0, 4))
        requests.push({ ...req, expect: { status: open ? undefined : [400, 401, 413, 415] } });
    }
    const before = await digestTables(db);
    const { problems, fiveXX } = await runAll(base, agent, requests, 6);
    process.stdout.write(
      `bad-input walk without a key (${isPg ? 'PostgreSQL' : 'SQLite'}): ${requests.length} requests, ${fiveXX} answered 5xx\n`,
    );
    expect(problems).toEqual([]);
    expect(await digestTables(db)).toEqual(before);
  }, 60_000);

  describe('the requests issue #15 found answering 500', () => {
    const post = (path: string, contentType: string | undefined, body: string | Buffer): Promise<Answer> =>
      send(base, agent, {
        method: 'POST',
        path,
        headers: { ...auth, ...(contentType ? { 'content-type': contentType } : {}) },
        body,
      });
    const bodyOf = (answer: Answer): ErrorBody => JSON.parse(answer.text) as ErrorBody;
    const composeMissing = {
      statusCode: 400,
      code: 'validation_failed',
      details: expect.arrayContaining([{ field: 'compose', message: 'compose should not be null or undefined' }]),
    };

    it.each([
      ['{}', 'application/json', '{}'],
      ['an empty body', 'application/json', ''],
      ['a BOM and {}', 'application/json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')])],
      ['compose: null', 'application/json', '{"compose":null}'],
    ])('should answer compose-and-generate with %s: 400 naming compose', async (_label, type, body) => {
      const answer = await post('/api/v1/generation/compose-and-generate', type, body);
      expect(answer.status).toBe(400);
      expect(bodyOf(answer)).toMatchObject(composeMissing);
    });

    it('should refuse a __proto__ key in compose-and-generate, naming it', async () => {
      const answer = await post(
        '/api/v1/generation/compose-and-generate',
        'application/json',
        '{"__proto__":{"compose":{}}}',
      );
      expect(answer.status).toBe(400);
      expect(bodyOf(answer)).toMatchObject({
        code: 'validation_failed',
        details: [{ field: '__proto__', message: 'this key is not allowed' }],
      });
    });

    it.each([
      ['text/plain', 'text/plain', '{"compose":{}}'],
      [
        'multipart',
        'multipart/form-data; boundary=b',
        '--b\r\nContent-Disposition: form-data; name="compose"\r\n\r\n{}\r\n--b--\r\n',
      ],
    ])('should refuse a valid compose-and-generate body sent as %s with 415', async (_label, type, body) => {
      const answer = await post('/api/v1/generation/compose-and-generate', type, body);
      expect(answer.status).toBe(415);
      expect(bodyOf(answer)).toMatchObject({ statusCode: 415, code: 'unsupported_media_type' });
    });

    it.each([
      '/api/v1/compose',
      '/api/v1/compose/parse',
      '/api/v1/generation/generate',
      '/api/v1/generation/queue-generation',
      '/api/v1/deliveries',
    ])('should refuse 10,000 nested levels on %s with 400 and more than 1 MB with 413', async (path) => {
      for (const deep of ['['.repeat(10_000) + ']'.repeat(10_000), '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)]) {
        const answer = await post(path, 'application/json', deep);
        expect(answer.status).toBe(400);
        expect(bodyOf(answer)).toMatchObject({
          code: 'body_too_deep',
          message: 'Request body is nested deeper than 32 levels',
        });
      }
      const huge = await post(path, 'application/json', JSON.stringify({ prompt: 'x'.repeat(1_100_000) }));
      expect(huge.status).toBe(413);
      expect(bodyOf(huge)).toMatchObject({ statusCode: 413, code: 'payload_too_large' });
    });

    it.each(['/api/v1/generation/jobs', '/api/v1/deliveries', '/api/v1/adapters/duplicates', '/api/v1/adapters'])(
      'should refuse huge paging values on %s with 400 naming the parameter',
      async (path) => {
        const bad = [
          '99999999999999999999',
          '1e20',
          '9223372036854775807',
          '1e300',
          '0x10',
          '1e3',
          '%2012',
          '',
          '-1',
          '1.5',
        ];
        const params: [string, string[]][] = [
          [path.endsWith('jobs') || path.endsWith('deliveries') ? 'offset' : 'page', [...bad, '10000001', '50001']],
          ['limit', [...bad, '0', '201']],
        ];
        for (const [param, values] of params) {
          for (const value of values.filter((v) => !(param === 'offset' && v === '50001'))) {
            const answer = await send(base, agent, { method: 'GET', path: `${path}?${param}=${value}`, headers: auth });
            expect({ value, status: answer.status }).toEqual({ value, status: 400 });
            expect(bodyOf(answer).details?.map((d) => d.field)).toContain(param);
          }
        }
      },
    );

    it('should refuse favorite: null on PATCH /deliveries/{id} and keep the row', async () => {
      const answer = await send(base, agent, {
        method: 'PATCH',
        path: `/api/v1/deliveries/${ids.delivery}`,
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"favorite":null}',
      });
      expect(answer.status).toBe(400);
      expect(bodyOf(answer)).toMatchObject({
        code: 'validation_failed',
        details: [{ field: 'favorite', message: 'favorite must be a boolean value' }],
      });
      expect((await call('GET', `/api/v1/deliveries/${ids.delivery}`)).body).toMatchObject({ favorite: false });
    });

    it('should refuse unknown query parameters on GET /imports and give GET /imports/{id} details', async () => {
      const unknown = await send(base, agent, { method: 'GET', path: '/api/v1/imports?foo=1&bar=2', headers: auth });
      expect(unknown.status).toBe(400);
      expect(bodyOf(unknown)).toMatchObject({
        code: 'validation_failed',
        details: [
          { field: 'foo', message: 'unknown field' },
          { field: 'bar', message: 'unknown field' },
        ],
      });
      const badId = await send(base, agent, { method: 'GET', path: '/api/v1/imports/xyz', headers: auth });
      expect(badId.status).toBe(400);
      expect(bodyOf(badId)).toMatchObject({
        code: 'validation_failed',
        details: [{ field: 'id', message: 'id must be a UUID' }],
      });
    });

    it('should answer unknown paths with the JSON error body and a wrong method with 405 and Allow', async () => {
      for (const path of ['/foo', '/health/live/x']) {
        const answer = await send(base, agent, { method: 'GET', path, headers: auth });
        expect(answer.status).toBe(404);
        expect(answer.headers['content-type']).toContain('application/json');
        expect(bodyOf(answer)).toEqual({
          statusCode: 404,
          error: 'Not Found',
          message: `Cannot GET ${path}`,
          code: 'not_found',
        });
      }
      const wrong = await send(base, agent, { method: 'DELETE', path: '/api/v1/imports', headers: auth });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.allow).toBe('GET, HEAD, POST');
      expect(bodyOf(wrong)).toMatchObject({ statusCode: 405, error: 'Method Not Allowed', code: 'method_not_allowed' });
      const live = await send(base, agent, { method: 'POST', path: '/health/live', headers: {} });
      expect(live.status).toBe(405);
      expect(live.headers.allow).toBe('GET, HEAD');
      const options = await send(base, agent, {
        method: 'OPTIONS',
        path: `/api/v1/adapters/${ids.adapter}`,
        headers: auth,
      });
      expect(options.status).toBe(204);
      expect(options.headers.allow).toBe('DELETE, GET, HEAD, PATCH, OPTIONS');
    });
  });
});
