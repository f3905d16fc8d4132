import type { INestApplication, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { ModulesContainer } from '@nestjs/core';
import {
  DECORATORS,
  DocumentBuilder,
  getSchemaPath,
  type OpenAPIObject,
  type OperationObject,
  type ParameterObject,
  type ReferenceObject,
  type SchemaObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import { SESSION_COOKIE } from '@app/core';
import { ErrorBodyDto } from './error-body.dto.js';

/** Security scheme names; every protected operation accepts any of them. */
export const SECURITY_SCHEMES = { apiKey: 'apiKey', bearer: 'bearer', session: 'session' } as const;

const TAGS: Record<string, string> = {
  adapters: 'The LoRA library: search, facets, edits, previews, duplicates',
  compose: 'Prompts with `<lora:…>` tokens from the library',
  generation: 'txt2img on SD.Next backends: synchronous or queued jobs, images',
  results: 'Generated images: list, rate, tag, download, delete, reuse as a generation request',
  recipes: 'LoRA sets with prompts and settings: from scratch, a result or an image; compose, generate, import, export',
  deliveries: 'Handing composed prompts to an HTTP endpoint, a local program or SD.Next',
  imports: 'Import runs that index the library roots',
  hashes: 'Background hash runs and how many adapters have a computed hash',
  civitai:
    'Civitai lookups, links, update checks, downloads and example images (nothing contacts Civitai unless asked)',
  archive: 'Archive export and import of the library, and backups (admin)',
  jobs: 'Queue jobs by name and id',
  recommendations: 'Similar adapters, adapters for a prompt or trigger word, feedback, and the index behind them',
  analytics: 'Library summary, generation statistics, most-used adapters, failure reasons, delivery outcomes',
  activity: 'Imports, generations, deliveries and adapter edits, newest first',
  system: 'Backends, queues, processes, latencies and disk space (no secrets)',
  health: 'Probes and Prometheus metrics (open, no key)',
  session: 'Browser sign-in: an API key exchanged for a session cookie (open)',
};

/** One schema in the document standing for several models, told apart by a property (e.g. a delivery's `mode`). */
export interface DiscriminatedUnion {
  /** The component schema replaced by the union. */
  schema: string;
  propertyName: string;
  /** Discriminator value → model registered with `@ApiExtraModels`. */
  mapping: Record<string, Type<unknown>>;
}

const unions: DiscriminatedUnion[] = [];

/** Declares that a component schema is, in the document, a `oneOf` of per-variant models. */
export function registerDiscriminatedUnion(union: DiscriminatedUnion): void {
  unions.push(union);
}

/**
 * The OpenAPI document of the app. The swagger plugin writes the schemas from the DTOs; this adds what it cannot
 * know: security per operation, `integer` where validators demand whole numbers, discriminated unions, tags.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('LoRA Manager')
    .setDescription('Index, search and compose Stable Diffusion LoRA adapters; run generations and deliveries.')
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'This server')
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key from `API_KEYS`' },
      SECURITY_SCHEMES.apiKey,
    )
    // An opaque key, not a JWT: the same value as `X-API-Key`.
    .addSecurity(SECURITY_SCHEMES.bearer, {
      type: 'http',
      scheme: 'bearer',
      description: 'An API key from `API_KEYS`, as `Authorization: Bearer <key>`',
    })
    // The web UI's session (`POST /api/v1/session`), as a cookie.
    .addCookieAuth(
      SESSION_COOKIE,
      { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'The browser session of the web UI' },
      SECURITY_SCHEMES.session,
    )
    .addSecurityRequirements(SECURITY_SCHEMES.apiKey)
    .addSecurityRequirements(SECURITY_SCHEMES.bearer)
    .addSecurityRequirements(SECURITY_SCHEMES.session);
  for (const [name, description] of Object.entries(TAGS)) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    extraModels: unions.flatMap((u) => Object.values(u.mapping)),
    // Stable operation ids: `<Controller>_<method>`.
    operationIdFactory: (controllerKey, methodKey) => operationIdOf(controllerKey, methodKey),
  });
  declareSecurity(document);
  declareUnknownQueryRefusal(document);
  declareIntegers(document, app);
  declareUnions(document);
  return document;
}

const operationIdOf = (controllerKey: string, methodKey: string): string =>
  `${controllerKey.replace(/Controller$/, '')}_${methodKey}`;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

function operationsOf(document: OpenAPIObject): OperationObject[] {
  return Object.values(document.paths).flatMap((item) =>
    HTTP_METHODS.map((m) => item[m]).filter((op): op is OperationObject => op !== undefined),
  );
}

/**
 * Open routes (`@Public()`) carry an empty requirement object; they become `security: []`. Every other operation
 * names the schemes it accepts, so a client needs no document-level default to know them.
 */
function declareSecurity(document: OpenAPIObject): void {
  const accepted = Object.values(SECURITY_SCHEMES).map((name) => ({ [name]: [] }));
  for (const op of operationsOf(document)) {
    const open =
      op.security?.some((requirement: Record<string, string[]>) => Object.keys(requirement).length === 0) ?? false;
    op.security = open ? [] : accepted;
  }
}

/**
 * The declared-query guard and the web access policy run on every route, open ones included: any operation can
 * answer 400, and 403 (a non-loopback Host or a foreign Origin in keyless mode).
 */
function declareUnknownQueryRefusal(document: OpenAPIObject): void {
  const errorBody = { 'application/json': { schema: { $ref: getSchemaPath(ErrorBodyDto) } } };
  for (const op of operationsOf(document)) {
    op.responses['400'] ??= {
      description: 'A query parameter the route does not declare, or a bad value',
      content: errorBody,
    };
    op.responses['403'] ??= { description: 'A Host or Origin the service does not accept', content: errorBody };
  }
}

const isReference = (s: SchemaObject | ReferenceObject | undefined): s is ReferenceObject =>
  s !== undefined && '$ref' in s;

/** Properties whose validators accept only whole numbers (`@IsInt`, or `@IsIn` over integers). */
function integerProperties(dto: Type<unknown>): Set<string> {
  const out = new Set<string>();
  for (const m of getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false)) {
    const values = m.name === 'isIn' ? (m.constraints?.[0] as unknown[] | undefined) : undefined;
    if (m.name === 'isInt' || (values?.length && values.every((v) => Number.isInteger(v)))) {
      out.add(m.propertyName);
    }
  }
  return out;
}

const BUILT_INS: unknown[] = [String, Number, Boolean, Object, Array, Date];

/** DTO classes a class refers to through its swagger property types (nested bodies). */
function nestedModels(dto: Type<unknown>): Type<unknown>[] {
  const prototype = dto.prototype as object;
  const keys = (Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES_ARRAY, prototype) as string[] | undefined) ?? [];
  const out: Type<unknown>[] = [];
  for (const key of keys) {
    const meta = Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, prototype, key.slice(1)) as
      { type?: unknown } | undefined;
    let type = meta?.type;
    // The plugin writes lazy `() => Dto` type functions; a class has a prototype, an arrow function has none.
    if (typeof type === 'function' && !('prototype' in type && type.prototype)) type = (type as () => unknown)();
    if (Array.isArray(type)) type = type[0];
    if (typeof type === 'function' && !BUILT_INS.includes(type)) out.push(type as Type<unknown>);
  }
  return out;
}

function toInteger(schema: SchemaObject | ReferenceObject | undefined): void {
  if (!schema || isReference(schema)) return;
  if (schema.type === 'number') schema.type = 'integer';
  else if (schema.type === 'array' && schema.items && !isReference(schema.items) && schema.items.type === 'number') {
    schema.items.type = 'integer';
  }
}

/**
 * The plugin types every `number` as `number`; a validator that accepts only whole numbers makes it `integer`, for
 * query and path parameters and for request bodies (with their nested DTOs).
 */
function declareIntegers(document: OpenAPIObject, app: INestApplication): void {
  const operations = new Map<string, OperationObject>();
  for (const op of operationsOf(document)) if (op.operationId) operations.set(op.operationId, op);
  const bodyModels = new Map<string, Type<unknown>>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type<unknown> | null;
      if (!controller) continue;
      for (const methodKey of Object.getOwnPropertyNames(controller.prototype as object)) {
        const op = operations.get(operationIdOf(controller.name, methodKey));
        if (!op) continue;
        const prototype = controller.prototype as object;
        const types = (Reflect.getMetadata('design:paramtypes', prototype, methodKey) as unknown[] | undefined) ?? [];
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, methodKey) ?? {}) as Record<
          string,
          { index: number }
        >;
        for (const [key, { index }] of Object.entries(args)) {
          const kind = Number(key.split(':')[0]) as RouteParamtypes;
          const dto = types[index];
          if (typeof dto !== 'function' || BUILT_INS.includes(dto)) continue;
          if (kind === RouteParamtypes.BODY) bodyModels.set(dto.name, dto as Type<unknown>);
          if (kind !== RouteParamtypes.QUERY && kind !== RouteParamtypes.PARAM) continue;
          const integers = integerProperties(dto as Type<unknown>);
          for (const param of (op.parameters ?? []) as ParameterObject[]) {
            if (integers.has(param.name) && (param.in === 'query' || param.in === 'path')) toInteger(param.schema);
          }
        }
      }
    }
  }
  const schemas = document.components?.schemas ?? {};
  const pending = [...bodyModels.values(), ...unions.flatMap((u) => Object.values(u.mapping))];
  const seen = new Set<Type<unknown>>();
  while (pending.length > 0) {
    const dto = pending.pop()!;
    if (seen.has(dto)) continue;
    seen.add(dto);
    pending.push(...nestedModels(dto));
    const schema = schemas[dto.name];
    if (!schema || isReference(schema)) continue;
    for (const name of integerProperties(dto)) toInteger(schema.properties?.[name]);
  }
}

function declareUnions(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  for (const union of unions) {
    if (!schemas[union.schema]) continue;
    const refs = Object.fromEntries(
      Object.entries(union.mapping).map(([value, model]) => [value, getSchemaPath(model)]),
    );
    schemas[union.schema] = {
      oneOf: Object.values(refs).map(($ref) => ({ $ref })),
      discriminator: { propertyName: union.propertyName, mapping: refs },
    };
  }
}
