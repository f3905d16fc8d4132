import { describe, expect, it } from '@jest/globals';
import type { RecordedResponse } from './contract-recorder.js';
import { ContractValidator, type OpenApiDocument } from './contract-validator.js';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const document: OpenApiDocument = {
  paths: {
    '/api/v1/things/{id}': {
      get: { responses: { '200': json(ref('ThingDto')), '404': json(ref('ErrorBodyDto')) } },
    },
    '/api/v1/things/count': { get: { responses: { '200': json({ type: 'integer' }) } } },
    '/api/v1/deliveries': { post: { responses: { '201': json(ref('DeliveryDto')) } } },
    '/api/v1/things/{id}/image': {
      get: { responses: { '200': { content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } } } },
    },
  },
  components: {
    schemas: {
      ThingDto: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          size: { type: 'integer', minimum: 0 },
          seenAt: { type: 'string', format: 'date-time', nullable: true },
        },
        required: ['id', 'size', 'seenAt'],
      },
      ErrorBodyDto: {
        type: 'object',
        properties: {
          statusCode: { type: 'integer' },
          error: { type: 'string' },
          message: { type: 'string' },
          code: { type: 'string' },
        },
        required: ['statusCode', 'error', 'message', 'code'],
      },
      HttpDeliveryDto: {
        type: 'object',
        properties: {
          mode: { type: 'string', enum: ['http'] },
          params: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
        },
        required: ['mode', 'params'],
      },
      CliDeliveryDto: {
        type: 'object',
        properties: {
          mode: { type: 'string', enum: ['cli'] },
          params: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
        },
        required: ['mode', 'params'],
      },
      DeliveryDto: {
        oneOf: [ref('HttpDeliveryDto'), ref('CliDeliveryDto')],
        discriminator: {
          propertyName: 'mode',
          mapping: { http: '#/components/schemas/HttpDeliveryDto', cli: '#/components/schemas/CliDeliveryDto' },
        },
      },
    },
  },
};

const response = (over: Partial<RecordedResponse>): RecordedResponse => ({
  method: 'GET',
  path: '/api/v1/things/8f0e1a52-64b4-4c43-9a55-3c1e1c8f2a10',
  status: 200,
  contentType: 'application/json; charset=utf-8',
  rawBody: false,
  ...over,
});

const ID = '8f0e1a52-64b4-4c43-9a55-3c1e1c8f2a10';
const error404 = { statusCode: 404, error: 'Not Found', message: 'no', code: 'not_found' };

describe(ContractValidator.name, () => {
  const validator = new ContractValidator(document);

  it('should accept a body that matches the declared schema, null where nullable', () => {
    expect(validator.check(response({ body: { id: ID, size: 3, seenAt: null } }))).toEqual([]);
    expect(validator.check(response({ body: { id: ID, size: 3, seenAt: '2026-12-06T10:00:00.000Z' } }))).toEqual([]);
  });

  it('should refuse wrong types, formats, missing and undeclared fields', () => {
    expect(validator.check(response({ body: { id: ID, size: 1.5, seenAt: null } }))).toHaveLength(1);
    expect(validator.check(response({ body: { id: 'not-a-uuid', size: 1, seenAt: null } }))).toHaveLength(1);
    expect(validator.check(response({ body: { id: ID, size: 1, seenAt: 'yesterday' } }))).toHaveLength(1);
    expect(validator.check(response({ body: { id: ID, size: 1 } }))).toHaveLength(1);
    expect(validator.check(response({ body: { id: ID, size: 1, seenAt: null, extra: true } }))).toHaveLength(1);
  });

  it('should refuse a status the operation does not declare', () => {
    const [problem] = validator.check(response({ status: 409, body: { ...error404, statusCode: 409 } }));
    expect(problem).toContain('status not declared');
  });

  it('should prefer a literal path segment over a parameter', () => {
    expect(validator.check(response({ path: '/api/v1/things/count', body: 4 }))).toEqual([]);
    expect(validator.check(response({ path: '/api/v1/things/count', body: 'four' }))).toHaveLength(1);
  });

  it('should pick the branch of a discriminated union by its property', () => {
    const post = (body: unknown) => response({ method: 'POST', path: '/api/v1/deliveries', status: 201, body });
    expect(validator.check(post({ mode: 'http', params: { url: 'http://x' } }))).toEqual([]);
    expect(validator.check(post({ mode: 'cli', params: { command: '/bin/echo' } }))).toEqual([]);
    expect(validator.check(post({ mode: 'cli', params: { url: 'http://x' } }))).toHaveLength(1);
    expect(validator.check(post({ mode: 'ftp', params: {} }))).toHaveLength(1);
  });

  it('should check the content type of binary responses', () => {
    const image = { path: `/api/v1/things/${ID}/image`, rawBody: true };
    expect(validator.check(response({ ...image, contentType: 'image/png' }))).toEqual([]);
    expect(validator.check(response({ ...image, contentType: 'text/html' }))).toHaveLength(1);
  });

  it('should expect the error body from paths and methods outside the document', () => {
    const unknown = { path: '/api/v1/nothing', status: 404 };
    expect(validator.check(response({ ...unknown, body: error404 }))).toEqual([]);
    expect(validator.check(response({ ...unknown, contentType: 'text/html', rawBody: true }))).toHaveLength(1);
    expect(
      validator.check(response({ method: 'DELETE', status: 405, body: { ...error404, statusCode: 405 } })),
    ).toEqual([]);
    expect(validator.check(response({ path: '/api/v1/nothing', status: 200, body: {} }))).toHaveLength(1);
  });
});
