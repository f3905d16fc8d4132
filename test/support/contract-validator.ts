import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { RecordedResponse } from './contract-recorder.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface OpenApiOperation {
  operationId?: string;
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, object> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ERROR_BODY = '#/components/schemas/ErrorBodyDto';

// ajv-formats is CommonJS with a default export; under ESM its function sits on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/**
 * OpenAPI 3.0 schema → JSON Schema for ajv: `nullable` becomes a `null` alternative, and objects that list their
 * properties refuse any other (a field the document does not declare is drift too). `mapping` is dropped: ajv
 * finds each branch by its own `mode` enum.
 */
export function toJsonSchema(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable' || key === 'example' || key === 'examples') continue;
    if (key === 'discriminator' && value && typeof value === 'object' && !Array.isArray(value)) {
      out.discriminator = { propertyName: value.propertyName };
      continue;
    }
    if (key === 'properties' && value && typeof value === 'object' && !Array.isArray(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchema(v)]));
      continue;
    }
    out[key] = toJsonSchema(value);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  if (schema.nullable === true) {
    if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'] };
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

interface Matched {
  template: string;
  operations: Record<string, OpenApiOperation>;
}

/** Validates recorded responses against the schema the document declares for their route and status. */
/**
 * HTTP's own answers on a known path, not operations of the document: OPTIONS → 204 with `Allow`, and a
 * browser's conditional GET → 304 Not Modified (no body).
 */
const PROTOCOL_ANSWERS = new Set(['OPTIONS 204', 'GET 304']);

export class ContractValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: { template: string; pattern: RegExp; params: number }[];

  constructor(private readonly document: OpenApiDocument) {
    this.ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
    addFormats(this.ajv);
    this.ajv.addFormat('binary', true);
    this.ajv.addSchema({ components: toJsonSchema((document.components ?? {}) as Json) }, 'openapi');
    this.routes = Object.keys(document.paths)
      .map((template) => ({
        template,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
        params: (template.match(/\{/g) ?? []).length,
      }))
      // A literal segment wins over a parameter: `/adapters/tags` before `/adapters/{id}`.
      .sort((a, b) => a.params - b.params);
  }

  private match(path: string): Matched | undefined {
    const route = this.routes.find((r) => r.pattern.test(path));
    return route ? { template: route.template, operations: this.document.paths[route.template] } : undefined;
  }

  private validator(ref: string, schema: JsonObject): ValidateFunction {
    let fn = this.compiled.get(ref);
    if (!fn) {
      const rebased = JSON.parse(
        JSON.stringify(toJsonSchema(schema)).replace(/"#\/components\//g, '"openapi#/components/'),
      ) as object;
      fn = this.ajv.compile(rebased);
      this.compiled.set(ref, fn);
    }
    return fn;
  }

  /** Problems with one response; an empty list when it is what the document says. */
  check(r: RecordedResponse): string[] {
    const where = `${r.method} ${r.path} → ${r.status}`;
    const matched = this.match(r.path);
    const operation = matched?.operations[r.method.toLowerCase()];
    if (matched && PROTOCOL_ANSWERS.has(`${r.method} ${r.status}`)) return [];
    if (!matched || !operation || !METHODS.includes(r.method.toLowerCase())) {
      // Outside the document's operations (unknown path, wrong method): only an error with the error body is right.
      if (r.status < 400) return [`${where}: no operation in the document for this method and path`];
      return this.checkBody(where, `unmatched:${r.status}`, { $ref: ERROR_BODY }, r);
    }
    const declared =
      operation.responses[String(r.status)] ??
      operation.responses[`${String(r.status)[0]}XX`] ??
      operation.responses.default;
    if (!declared) {
      return [
        `${where}: status not declared for ${matched.template} (declared: ${Object.keys(operation.responses).join(', ')})`,
      ];
    }
    const content = declared.content ?? {};
    const types = Object.keys(content);
    if (types.length === 0) {
      return r.rawBody || r.body !== undefined ? [`${where}: the document declares no body, the response has one`] : [];
    }
    const mediaType = r.contentType.split(';')[0].trim().toLowerCase();
    const declaredType = types.find(
      (t) => t === mediaType || (t.endsWith('/*') && mediaType.startsWith(t.slice(0, -1))),
    );
    if (!declaredType) return [`${where}: content type ${mediaType || '(none)'} is not one of ${types.join(', ')}`];
    const schema = content[declaredType].schema;
    if (!schema || !/\bjson\b/.test(declaredType)) return [];
    return this.checkBody(where, `${r.method} ${matched.template} ${r.status}`, schema as JsonObject, r);
  }

  private checkBody(where: string, key: string, schema: JsonObject, r: RecordedResponse): string[] {
    if (r.body === undefined) {
      return r.rawBody
        ? [`${where}: the body is not JSON (${r.contentType || 'no content type'})`]
        : [`${where}: no body`];
    }
    const validate = this.validator(key, schema);
    if (validate(r.body)) return [];
    const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
    return [`${where}: body does not match the schema: ${errors.join('; ')}`];
  }
}
