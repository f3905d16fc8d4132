import { METHODS } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { toInteger } from './query-params.js';
import { bodyProblem, MAX_JSON_DEPTH } from './request-body.js';
import { RouteTable } from './route-fallback.js';
import { nulFieldOf } from './validation.js';

const nestedArrays = (levels: number): unknown => JSON.parse('['.repeat(levels) + ']'.repeat(levels));
const nestedObjects = (levels: number): unknown => JSON.parse('{"a":'.repeat(levels) + '1' + '}'.repeat(levels));

describe('bodyProblem', () => {
  it('should accept bodies up to the depth limit and refuse one level more', () => {
    expect(bodyProblem(nestedArrays(MAX_JSON_DEPTH))).toBeUndefined();
    expect(bodyProblem(nestedArrays(MAX_JSON_DEPTH + 1))).toEqual({ kind: 'too_deep' });
    expect(bodyProblem(nestedObjects(MAX_JSON_DEPTH))).toBeUndefined();
    expect(bodyProblem(nestedObjects(MAX_JSON_DEPTH + 1))).toEqual({ kind: 'too_deep' });
  });

  it('should walk 10,000 levels without exhausting the stack', () => {
    expect(bodyProblem(nestedArrays(10_000))).toEqual({ kind: 'too_deep' });
    expect(bodyProblem(nestedObjects(10_000))).toEqual({ kind: 'too_deep' });
  });

  it('should name the path of a key that rewrites a prototype', () => {
    expect(bodyProblem(JSON.parse('{"__proto__":{"x":1}}'))).toEqual({ kind: 'prototype_key', path: '__proto__' });
    expect(bodyProblem(JSON.parse('{"compose":{"adapters":[{"constructor":{"prototype":1}}]}}'))).toEqual({
      kind: 'prototype_key',
      path: 'compose.adapters[0].constructor',
    });
  });

  it('should accept scalars, empty bodies and ordinary objects', () => {
    for (const body of [undefined, null, 'text', 3, {}, [], { prompt: 'a', adapters: [{ id: 'x', weight: 1 }] }]) {
      expect(bodyProblem(body)).toBeUndefined();
    }
  });
});

describe('toInteger', () => {
  it('should turn only plain decimal digits into numbers', () => {
    expect(toInteger({ value: '12' })).toBe(12);
    expect(toInteger({ value: '-3' })).toBe(-3);
    expect(toInteger({ value: '99999999999999999999' })).toBe(1e20);
    for (const value of ['0x10', '1e3', ' 12', '12 ', '', '1.5', '+1', 'Infinity', 'NaN']) {
      expect(toInteger({ value })).toBe(value);
    }
    expect(toInteger({ value: ['1', '2'] })).toEqual(['1', '2']);
  });
});

describe(RouteTable.name, () => {
  const table = RouteTable.fromRoutes([
    { path: '/api/v1/adapters/tags', methods: { get: true } },
    { path: '/api/v1/adapters/:id', methods: { get: true } },
    { path: '/api/v1/adapters/:id', methods: { patch: true } },
    { path: '/api/v1/imports', methods: { post: true } },
    { path: '/api/v1/echo', methods: { _all: true } },
    { path: '/health/live', methods: { get: true } },
    { path: '/health/live', methods: Object.fromEntries(METHODS.map((m) => [m.toLowerCase(), true])) },
    { path: '/assets/{*rest}', methods: { get: true } },
  ]);

  it('should gather the methods of every route of a path, HEAD with GET, like the document does', () => {
    expect(table.allowedMethods('/api/v1/adapters/abc')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(table.allowedMethods('/API/v1/adapters/abc/')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(table.allowedMethods('/api/v1/adapters/tags')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(table.allowedMethods('/api/v1/imports')).toEqual(['POST']);
  });

  it('should leave out routes on every method (middleware bindings), wildcards, and paths no route has', () => {
    expect(table.allowedMethods('/api/v1/echo')).toBeUndefined();
    expect(table.allowedMethods('/health/live')).toEqual(['GET', 'HEAD']);
    expect(table.allowedMethods('/assets/a.js')).toBeUndefined();
    expect(table.allowedMethods('/api/v1/adapters/a/b')).toBeUndefined();
    expect(table.allowedMethods('/api/v1/importsX')).toBeUndefined();
  });
});

describe('nulFieldOf', () => {
  it('should name the first value or key holding a NUL character', () => {
    expect(nulFieldOf('a\0b', 'mode')).toBe('mode');
    expect(nulFieldOf({ compose: { adapters: [{ id: 'x' }, { id: '\0' }] } })).toBe('compose.adapters[1].id');
    expect(nulFieldOf({ params: { 'k\0': 1 } })).toBe('params.k\0');
    expect(nulFieldOf({ prompt: 'fine', tags: ['a', 'b'], steps: 3 })).toBeUndefined();
    expect(nulFieldOf(undefined)).toBeUndefined();
  });
});
