import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppProcess, freePort } from './support/app-process.js';
import { contractRecording } from './support/contract-recorder.js';
import { tempDir } from './support/test-services.js';

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  properties?: Record<string, Schema>;
  items?: Schema;
  oneOf?: Schema[];
  allOf?: Schema[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  enum?: unknown[];
};
interface Parameter {
  name: string;
  in: string;
  schema: Schema;
}
interface Operation {
  operationId: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
interface Document {
  openapi: string;
  servers?: { url: string }[];
  tags?: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Record<string, string>> };
}

const ADMIN = 'contract-admin-key-0123456789';
const ERROR_BODY = '#/components/schemas/ErrorBodyDto';
const UUID = '6f1c1b7e-0c55-4b4e-9d35-8a1a9f1f2b11';
const PAGING = ['page', 'limit', 'offset'];

/** Walks a schema and its properties (not through `$ref`: each component is walked once by itself). */
function* walk(schema: Schema, path: string): Generator<[string, Schema]> {
  yield [path, schema];
  for (const [name, child] of Object.entries(schema.properties ?? {})) yield* walk(child, `${path}.${name}`);
  if (schema.items) yield* walk(schema.items, `${path}[]`);
  for (const [i, child] of (schema.oneOf ?? []).entries()) yield* walk(child, `${path}|${i}`);
}

describe('OpenAPI contract', () => {
  const dir = tempDir('contract');
  let api: AppProcess;
  let doc: Document;
  let operations: { method: string; path: string; op: Operation }[];

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${api.baseUrl}${path}`, {
      method,
      headers: {
        'x-api-key': ADMIN,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    const port = await freePort();
    api = new AppProcess(
      'api',
      {
        DATA_DIR: dir.path,
        PORT: String(port),
        HOST: '127.0.0.1',
        API_KEYS: `${ADMIN}:admin,contract-viewer-key-0123456:viewer`,
      },
      port,
    ).start();
    await api.waitReady();
    doc = (await (await call('GET', '/docs-json')).json()) as Document;
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ method, path, op })),
    );
  });

  afterAll(async () => {
    await api.stop();
    dir.remove();
  });

  it('should give every operation a summary, declared tags and servers', () => {
    expect(doc.servers?.length).toBeGreaterThan(0);
    const declared = new Set((doc.tags ?? []).map((t) => t.name));
    const bad = operations
      .filter(({ op }) => !op.summary || !op.tags?.length || !op.tags.every((t) => declared.has(t)))
      .map(({ method, path }) => `${method} ${path}`);
    expect(bad).toEqual([]);
    const used = new Set(operations.flatMap(({ op }) => op.tags ?? []));
    expect([...declared].filter((t) => !used.has(t))).toEqual([]);
  });

  it('should declare the error responses of every protected operation with the error body', () => {
    const bad: string[] = [];
    for (const { method, path, op } of operations) {
      const statuses = Object.keys(op.responses);
      if (op.security?.length === 0) continue;
      const expected = ['400', '401', '403', ...(path.includes('{') ? ['404'] : [])];
      if (op.requestBody) expected.push('413', '415');
      for (const status of expected) if (!statuses.includes(status)) bad.push(`${method} ${path}: no ${status}`);
      for (const status of statuses.filter((s) => Number(s) >= 400)) {
        const ref = op.responses[status].content?.['application/json']?.schema.$ref;
        // `/health/ready` answers 503 with the health report, as probes expect.
        const healthReport = path === '/health/ready' && status === '503';
        if (ref !== ERROR_BODY && !healthReport) bad.push(`${method} ${path} ${status}: body ${ref}`);
      }
    }
    expect(bad).toEqual([]);
    const error = doc.components.schemas.ErrorBodyDto;
    expect(Object.keys(error.properties ?? {}).sort()).toEqual(['code', 'details', 'error', 'message', 'statusCode']);
  });

  it('should declare health, metrics and sign-in open and every other operation behind any credential', () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.bearer.bearerFormat).toBeUndefined();
    expect(schemes.session).toMatchObject({ type: 'apiKey', in: 'cookie' });
    const bad: string[] = [];
    for (const { method, path, op } of operations) {
      // Probes, metrics and the sign-in routes need no credentials.
      const open = path.startsWith('/health/') || path === '/metrics' || path === '/api/v1/session';
      if (open && op.security?.length !== 0) bad.push(`${method} ${path}: not open`);
      const names = (op.security ?? []).flatMap((r) => Object.keys(r));
      const all = ['apiKey', 'bearer', 'session'].every((n) => names.includes(n));
      if (!open && !all) bad.push(`${method} ${path}: ${names.join(',')}`);
    }
    expect(bad).toEqual([]);
  });

  it('should type paging parameters as bounded integers and ids as uuids', () => {
    const bad: string[] = [];
    for (const { method, path, op } of operations) {
      for (const p of op.parameters ?? []) {
        const where = `${method} ${path} ${p.name}`;
        if (PAGING.includes(p.name)) {
          if (p.schema.type !== 'integer' || p.schema.maximum === undefined || p.schema.minimum === undefined) {
            bad.push(`${where}: ${JSON.stringify(p.schema)}`);
          }
          // A page size (beside page or offset) is at most 200; `limit` of a top-N list (tags) is not a page.
          const paged = (op.parameters ?? []).some((q) => q.name === 'page' || q.name === 'offset');
          if (p.name === 'limit' && paged && (p.schema.maximum ?? Infinity) > 200)
            bad.push(`${where}: limit above 200`);
        }
        if (p.in === 'path' && /(^id$|Id$)/.test(p.name) && p.name !== 'backendId' && p.schema.format !== 'uuid')
          bad.push(`${where}: not a uuid`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('should type ids, timestamps and whole numbers in every schema', () => {
    const bad: string[] = [];
    const wholeNumbers =
      /^(total|page|pages|limit|offset|count|attempts|step|steps|index|size|fileSize|statusCode|failureCount|affected)$/;
    // Named ids that are not entity ids: library roots (`a1b2`, also an archive's and the local one it maps to) and
    // SD.Next backends (`sdnext-0`).
    const notUuid = /^(rootId|archiveRootId|localRootId|backendId|backend_id)$|^Backend(Status)?Dto\.id$/;
    // A schedule point's step is a fraction of the run when ≤ 1.
    const fractional = new Set(['StepPointDto.step']);
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      for (const [path, s] of walk(schema, name)) {
        const field = path.split('.').pop() ?? '';
        if (
          /(^id$|Id$)/.test(field) &&
          s.type === 'string' &&
          s.format !== 'uuid' &&
          !notUuid.test(field) &&
          !notUuid.test(path)
        ) {
          bad.push(`${path}: id without format uuid`);
        }
        if (/At$/.test(field) && s.format !== 'date-time') bad.push(`${path}: timestamp without format date-time`);
        if (wholeNumbers.test(field) && s.type !== 'integer' && s.type !== undefined && !fractional.has(path))
          bad.push(`${path}: ${s.type}, not integer`);
        if (
          s.type === 'object' &&
          s.properties === undefined &&
          s.oneOf === undefined &&
          !('additionalProperties' in s)
        ) {
          bad.push(`${path}: an object with nothing declared`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('should describe delivery modes as a discriminated union and job results as nullable', () => {
    const schemas = doc.components.schemas;
    for (const name of ['CreateDeliveryDto', 'DeliveryJobDto', 'ComposeDeliveryDto']) {
      expect(schemas[name].discriminator?.propertyName).toBe('mode');
      expect(Object.keys(schemas[name].discriminator?.mapping ?? {}).sort()).toEqual(['cli', 'http', 'sdnext']);
      for (const branch of schemas[name].oneOf ?? []) {
        const target = schemas[(branch.$ref ?? '').split('/').pop() ?? ''];
        expect(target.properties?.mode.enum).toHaveLength(1);
        expect(target.properties?.params.$ref).toMatch(/(Http|Cli|SdNext)DeliveryParamsDto$/);
      }
    }
    expect(schemas.JobDto.properties?.result.nullable).toBe(true);
    for (const field of ['weight', 'te', 'unet']) {
      const branches = schemas.ParsedTokenDto.properties?.[field].oneOf ?? [];
      expect(branches.map((b) => b.type ?? b.$ref)).toEqual(['number', '#/components/schemas/StepScheduleDto']);
    }
  });

  it('should answer what the document declares on every operation (responses are checked when the file ends)', async () => {
    const before = contractRecording.records.length;
    const viewer = { 'x-api-key': 'contract-viewer-key-0123456' };
    const exercised = new Set<string>();
    for (const { method, path, op } of operations) {
      const concrete = path
        .replace('{name}', 'diagnostic')
        .replace('{index}', '0')
        .replace(/\{[^}]+\}/g, UUID);
      const body = op.requestBody ? {} : undefined;
      const verb = method.toUpperCase();
      // Success or a declared error with an empty body, a missing resource, no key, a viewer's key, a bad query.
      await call(verb, concrete, body);
      await call(verb, `${concrete}${concrete.includes('?') ? '&' : '?'}limit=abc`, body);
      await fetch(`${api.baseUrl}${concrete}`, { method: verb });
      if (verb !== 'GET') await call(verb, concrete, body, viewer);
      if (op.requestBody) {
        await call(verb, concrete, undefined, { 'content-type': 'application/json', 'x-api-key': ADMIN });
        await fetch(`${api.baseUrl}${concrete}`, {
          method: verb,
          headers: { 'x-api-key': ADMIN, 'content-type': 'application/json' },
          body: '{"a":',
        });
      }
      exercised.add(`${method} ${path}`);
    }
    // Successful paths that need a real resource: a diagnostic job, a parse, a delivery list.
    const job = (await (await call('POST', '/api/v1/jobs/diagnostic', { steps: 1, stepMs: 1 })).json()) as {
      id: string;
    };
    await call('GET', `/api/v1/jobs/diagnostic/${job.id}`);
    await call('POST', '/api/v1/compose/parse', { prompt: 'a <lora:x:0.5> <lora:y:0.2@0,1@10>' });
    await call('GET', '/api/v1/deliveries?limit=5&offset=0');
    await call('GET', '/api/v1/generation/jobs?limit=5');
    await call('GET', '/api/v1/adapters?limit=5&facets=baseModel,tags');
    await call('GET', '/api/v1/nothing-here');
    expect(exercised.size).toBe(operations.length);
    expect(contractRecording.records.length - before).toBeGreaterThan(operations.length * 3);
  });
});
