// Generates bad requests for every operation of an OpenAPI document, each with what the API must answer.
// Used by test/bad-input-walk.e2e-spec.ts; kept apart so the generator reads as one piece.
import { randomUUID } from 'node:crypto';

/** Routes that read JSON bodies over the general 1 MB limit (a recipe document carries base64 images). */
const LARGE_BODY_PATHS = new Set(['/api/v1/recipes/import']);

export interface Schema {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  format?: string;
  enum?: unknown[];
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
}

export interface ApiDocument {
  paths: Record<string, Partial<Record<string, Operation>>>;
  components?: { schemas?: Record<string, Schema> };
}

/** What the API must answer: a status (or one of several; none = anything below 500) and the fields `details` names. */
export interface Expectation {
  status?: number[];
  fields?: string[];
  code?: string;
  allow?: string;
}

export interface BadRequest {
  label: string;
  method: string;
  /** Raw path and query, sent as is (no normalisation of `..` or `%2e`). */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  expect: Expectation;
}

export interface OperationRef {
  method: string;
  template: string;
  operation: Operation;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const JSON_TYPE = { 'content-type': 'application/json' };
const UNKNOWN = 'walkUnknown';

/** Path values that are never a valid id, index or name. */
export const PATH_EDGE_VALUES = [
  'not-a-uuid',
  'x'.repeat(3000),
  '%00',
  '..',
  '%2e%2e',
  '-1',
  '1e300',
  '0x10',
  '99999999999999999999',
  '%20',
  '%',
  '%E2%82',
  'null',
  '%F0%9F%98%80',
  "'%20OR%201=1--",
  '00000000-0000-4000-8000-00000000000g',
];

/** Query values (already URL-encoded) that break integers, booleans and enums in every way a client has sent. */
export const QUERY_EDGE_VALUES = [
  '',
  '%2012',
  '0x10',
  '1e3',
  '1e20',
  '1e300',
  '99999999999999999999',
  '9223372036854775807',
  '-1',
  '1.5',
  'abc',
  '%00',
  'null',
  'x'.repeat(5000),
];

export function operationsOf(document: ApiDocument): OperationRef[] {
  return Object.entries(document.paths).flatMap(([template, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ method: m.toUpperCase(), template, operation: item[m]! })),
  );
}

/** The methods a template answers, as the API's `Allow` header lists them. */
export function allowOf(document: ApiDocument, template: string): string[] {
  const methods = new Set(METHODS.filter((m) => document.paths[template][m]).map((m) => m.toUpperCase()));
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

export class BadInputGenerator {
  constructor(
    private readonly document: ApiDocument,
    /** A real value for a path parameter (an existing row), so a request wrongly accepted would change data. */
    private readonly realValue: (template: string, name: string) => string,
    private readonly auth: Record<string, string>,
  ) {}

  resolve(schema: Schema | undefined): Schema {
    let s = schema ?? {};
    for (let i = 0; i < 10; i++) {
      if (s.$ref) s = this.document.components?.schemas?.[s.$ref.split('/').pop()!] ?? {};
      else if (s.allOf?.length === 1) s = { ...s, ...this.resolve(s.allOf[0]), allOf: undefined };
      else break;
    }
    return s;
  }

  private pathOf(op: OperationRef, override: Record<string, string> = {}, ghost = false): string {
    return op.template.replace(/\{([^}]+)\}/g, (_, name: string) =>
      name in override
        ? override[name]
        : ghost && name !== 'index' && name !== 'name'
          ? randomUUID()
          : encodeURIComponent(this.realValue(op.template, name)),
    );
  }

  private request(
    op: OperationRef,
    label: string,
    path: string,
    expect: Expectation,
    extra: Partial<BadRequest> = {},
  ): BadRequest {
    return {
      label: `${op.method} ${op.template}: ${label}`,
      method: op.method,
      path,
      headers: { ...this.auth, ...(extra.headers ?? {}) },
      body: extra.body,
      expect,
    };
  }

  /** Every bad request for one operation. */
  forOperation(op: OperationRef): BadRequest[] {
    return [...this.unknownQuery(op), ...this.pathEdges(op), ...this.queryEdges(op), ...this.bodies(op)];
  }

  private unknownQuery(op: OperationRef): BadRequest[] {
    return [
      this.request(op, 'unknown query parameter', `${this.pathOf(op)}?${UNKNOWN}=1`, {
        status: [400],
        fields: [UNKNOWN],
      }),
    ];
  }

  private params(op: OperationRef, where: Parameter['in']): Parameter[] {
    return (op.operation.parameters ?? []).filter((p) => p.in === where);
  }

  private pathEdges(op: OperationRef): BadRequest[] {
    return this.params(op, 'path').flatMap((param) => {
      const schema = this.resolve(param.schema);
      const constrained =
        schema.format === 'uuid' || !!schema.enum || schema.type === 'number' || schema.type === 'integer';
      return PATH_EDGE_VALUES.map((value) => {
        // A value Express cannot decode is refused before any parameter is read, so it names no field.
        const undecodable = value === '%' || value === '%E2%82';
        return this.request(op, `path ${param.name}=${value.slice(0, 40)}`, this.pathOf(op, { [param.name]: value }), {
          status: constrained ? [400] : undefined,
          fields: constrained && !undecodable ? [param.name] : undefined,
        });
      });
    });
  }

  private queryEdges(op: OperationRef): BadRequest[] {
    if (op.method !== 'GET') return [];
    return this.params(op, 'query').flatMap((param) => {
      const schema = this.resolve(param.schema);
      const values = [...QUERY_EDGE_VALUES.map((v) => ({ raw: `${param.name}=${v}`, value: v, repeated: false }))];
      values.push({ raw: `${param.name}=1&${param.name}=2`, value: '1', repeated: true });
      return values.map(({ raw, value, repeated }) => {
        const invalid = repeated ? schema.type !== 'array' : this.queryValueInvalid(schema, decodeURIComponent(value));
        return this.request(op, `query ${raw.slice(0, 60)}`, `${this.pathOf(op)}?${raw}`, {
          status: invalid ? [400] : undefined,
          fields: invalid ? [param.name] : undefined,
        });
      });
    });
  }

  /** Whether the API must refuse this query value for this schema (undefined-safe: unsure means "not invalid"). */
  private queryValueInvalid(schema: Schema, value: string): boolean {
    if (value.includes('\0')) return true;
    if (schema.type === 'number' || schema.type === 'integer') {
      if (!/^-?\d+$/.test(value)) return true;
      const n = Number(value);
      if (schema.enum) return !schema.enum.includes(n);
      return (
        (schema.minimum !== undefined && n < schema.minimum) || (schema.maximum !== undefined && n > schema.maximum)
      );
    }
    if (schema.type === 'boolean') return !['true', 'false', '1', '0'].includes(value);
    if (schema.type === 'string' && schema.enum) return !schema.enum.includes(value);
    if (schema.type === 'string' && schema.maxLength !== undefined) return value.length > schema.maxLength;
    return false;
  }

  private bodySchema(op: OperationRef): Schema | undefined {
    const content = op.operation.requestBody?.content;
    return content ? this.resolve(content['application/json']?.schema) : undefined;
  }

  private bodies(op: OperationRef): BadRequest[] {
    const schema = this.bodySchema(op);
    if (!schema) return [];
    const required = schema.required ?? [];
    const hasPath = this.params(op, 'path').length > 0;
    // Forms that are a valid empty request when the route has no required field: sent only where that changes nothing.
    const emptyIsValid = required.length === 0;
    const path = this.pathOf(op);
    const ghostPath = this.pathOf(op, {}, true);
    const json = (label: string, body: string | Buffer, expect: Expectation, target = path): BadRequest =>
      this.request(op, label, target, expect, { headers: JSON_TYPE, body });
    const out: BadRequest[] = [];

    if (!emptyIsValid) {
      out.push(json('{}', '{}', { status: [400], fields: required }));
      out.push(json('empty body', '', { status: [400], fields: required }));
      out.push(
        json('BOM + {}', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]), {
          status: [400],
          fields: required,
        }),
      );
      out.push(this.request(op, 'no body, no content type', path, { status: [400], fields: required }));
      out.push(json('[]', '[]', { status: [400] }));
    } else if (hasPath) {
      out.push(json('[] to an unknown id', '[]', {}, ghostPath));
    }
    for (const literal of ['null', '"text"', '12', 'true', '{', '{"a":', '{"a":1,}', "{'a':1}", 'NaN']) {
      out.push(json(`body ${literal}`, literal, { status: [400] }));
    }
    out.push(json('NUL in an unknown key', '{"a\\u0000b":1}', { status: [400] }));
    out.push(json('unknown field', JSON.stringify({ [UNKNOWN]: 1 }), { status: [400], fields: [UNKNOWN] }));
    out.push(json('__proto__ key', '{"__proto__":{"polluted":1}}', { status: [400], fields: ['__proto__'] }));
    out.push(
      json('constructor.prototype key', '{"constructor":{"prototype":{"polluted":1}}}', {
        status: [400],
        fields: ['constructor'],
      }),
    );
    out.push(
      json('10,000 nested arrays', '['.repeat(10_000) + ']'.repeat(10_000), { status: [400], code: 'body_too_deep' }),
    );
    out.push(
      json('10,000 nested objects', '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000), {
        status: [400],
        code: 'body_too_deep',
      }),
    );
    // Over the general 1 MB limit: 413, except where the route reads larger documents (then it is validated).
    const large: Expectation = LARGE_BODY_PATHS.has(path) ? { status: [400], fields: [UNKNOWN] } : { status: [413] };
    out.push(json('1.5 MB body', JSON.stringify({ [UNKNOWN]: 'x'.repeat(1_500_000) }), large));

    // Bodies in another media type are refused before parsing, on every route, whatever they hold.
    const foreign: [string, string, string][] = [
      ['text/plain', 'text/plain', '{}'],
      ['form', 'application/x-www-form-urlencoded', `${UNKNOWN}=1`],
      [
        'multipart',
        'multipart/form-data; boundary=walk',
        `--walk\r\nContent-Disposition: form-data; name="${UNKNOWN}"\r\n\r\n1\r\n--walk--\r\n`,
      ],
      ['xml', 'application/xml', '<a/>'],
      ['no content type', '', '{}'],
    ];
    for (const [label, type, body] of foreign) {
      const headers: Record<string, string> = type ? { 'content-type': type } : {};
      out.push(
        this.request(op, `${label} body`, path, { status: [415], code: 'unsupported_media_type' }, { headers, body }),
      );
    }

    for (const [name, propSchema] of Object.entries(schema.properties ?? {})) {
      for (const bad of this.badValues(propSchema, name, 2)) {
        out.push(json(`${bad.field} = ${bad.label}`, JSON.stringify(bad.body), { status: [400], fields: [bad.field] }));
      }
    }
    return out;
  }

  /** Values a property must refuse, each as the body that carries it and the field the 400 must name. */
  private badValues(
    raw: Schema,
    field: string,
    depth: number,
  ): { label: string; field: string; body: Record<string, unknown> }[] {
    const schema = this.resolve(raw);
    const values: [string, unknown][] = [];
    const deeper: { label: string; field: string; body: Record<string, unknown> }[] = [];
    const type = schema.type ?? (schema.properties ? 'object' : undefined);
    if (!schema.nullable && type) values.push(['null', null]);
    if (schema.enum) values.push(['not in enum', typeof schema.enum[0] === 'number' ? 123_456 : 'walk-not-a-member']);
    switch (type) {
      case 'string':
        values.push(['a number', 12_345], ['a boolean', true], ['an object', {}], ['an array', ['x']]);
        if (schema.maxLength !== undefined && schema.maxLength < 200_000)
          values.push(['too long', 'x'.repeat(schema.maxLength + 1)]);
        if (schema.minLength) values.push(['empty', '']);
        if (schema.format === 'uuid') values.push(['not a uuid', 'not-a-uuid']);
        values.push(['a NUL character', 'a\u0000b']);
        break;
      case 'number':
      case 'integer':
        values.push(['a string', '1'], ['hex text', '0x10'], ['a boolean', true], ['an object', {}], ['an array', [1]]);
        if (schema.maximum !== undefined) values.push(['above maximum', schema.maximum + 1], ['1e300', 1e300]);
        if (schema.minimum !== undefined) values.push(['below minimum', schema.minimum - 1], ['-1e300', -1e300]);
        if (type === 'integer') values.push(['fractional', 1.5]);
        break;
      case 'boolean':
        values.push(['a string', 'true'], ['a number', 1], ['an object', {}]);
        break;
      case 'array': {
        values.push(['a string', 'x'], ['a number', 1], ['an object', {}]);
        if (schema.maxItems !== undefined)
          values.push(['too many items', Array.from({ length: schema.maxItems + 1 }, () => 'x')]);
        const items = this.resolve(schema.items);
        if (depth > 0 && (items.properties || items.type === 'string'))
          deeper.push(...this.badValues(items, `${field}[0]`, depth - 1));
        break;
      }
      case 'object':
        values.push(['a string', 'x'], ['a number', 1]);
        if (depth > 0 && schema.properties) {
          const required = schema.required ?? [];
          if (required.length)
            deeper.push({ label: 'missing required', field: `${field}.${required[0]}`, body: nest(field, {}) });
          for (const [child, childSchema] of Object.entries(schema.properties)) {
            deeper.push(...this.badValues(childSchema, `${field}.${child}`, depth - 1));
          }
        }
        break;
      default:
        break;
    }
    return [...values.map(([label, value]) => ({ label, field, body: nest(field, value) })), ...deeper];
  }
}

/** `{ a: { b: value } }` from the path `a.b` (an `[0]` step makes an array of one). */
function nest(path: string, value: unknown): Record<string, unknown> {
  const steps = path.split('.');
  let current: unknown = value;
  for (let i = steps.length - 1; i >= 0; i--) {
    const m = /^(.+)\[0\]$/.exec(steps[i]);
    current = m ? { [m[1]]: [current] } : { [steps[i]]: current };
  }
  return current as Record<string, unknown>;
}
