import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';

import { sniffImageType } from './image-sniff.js';
import { SdNextError, SdNextErrorKind } from './sdnext.errors.js';
import {
  SdBackendFlavour,
  type SdImage,
  type SdLora,
  type SdModel,
  type SdNextClientOptions,
  type SdNextCredentials,
  type SdProbeResult,
  type SdProgress,
  type SdSampler,
  type Txt2ImgOptions,
  type Txt2ImgParams,
  type Txt2ImgResult,
} from './sdnext.types.js';

const DEFAULT_REQUEST_TIMEOUT_MS = 15 * 60_000;
const DEFAULT_SHORT_TIMEOUT_MS = 10_000;
const TXT2IMG = '/sdapi/v1/txt2img';

export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

const DECODERS: Record<string, (buf: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface SendOptions {
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function asNumber(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function parseCredentials(auth: SdNextCredentials | string | undefined): SdNextCredentials | undefined {
  if (auth === undefined) return undefined;
  if (typeof auth !== 'string') return auth;
  const colon = auth.indexOf(':'); // the first colon: passwords may contain more
  if (colon < 1) throw new SdNextError(SdNextErrorKind.Config, "SD.Next auth must have the form 'user:password'");
  return { user: auth.slice(0, colon), password: auth.slice(colon + 1) };
}

/** FastAPI's 422 `detail` list (pydantic v1 or v2 shape) as `field: message` lines. */
function validationDetails(body: unknown): string[] {
  if (!isRecord(body) || !Array.isArray(body.detail)) return [];
  return body.detail.filter(isRecord).map((item) => {
    const loc = Array.isArray(item.loc) ? item.loc : [];
    const path = loc
      .filter((part, i) => !(i === 0 && (part === 'body' || part === 'query')))
      .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i > 0 ? '.' : ''}${String(part)}`))
      .join('');
    const msg = asString(item.msg) ?? 'invalid value';
    return path ? `${path}: ${msg}` : msg;
  });
}

/** One readable line from any error body SD.Next or A1111 sends (SDNEXT.md §1.7). */
function describeErrorBody(body: unknown, text: string): string {
  if (typeof body === 'string') return body; // a TypeError escaping a handler: 500 with a bare JSON string
  if (isRecord(body)) {
    const error = asString(body.error);
    const detail = asString(body.detail);
    const errors = asString(body.errors);
    if (error === 'HTTPException') return detail || errors || error;
    if (error) return [error, errors || detail].filter(Boolean).join(': ');
    if (detail) return detail;
    const details = validationDetails(body);
    if (details.length) return details.join('; ');
  }
  const plain = text.replace(/\s+/g, ' ').trim();
  return plain.length > 200 ? `${plain.slice(0, 200)}…` : plain;
}

/**
 * HTTP client for SD.Next's `/sdapi/v1` API (and A1111's compatible one), per shared/docs/SDNEXT.md.
 * Uses node:http with a whole-request timer, because txt2img holds the connection for the whole generation and
 * fetch/undici would cut it at 300 s. One connection per call, so a stale keep-alive socket can never turn a fresh
 * txt2img into an ambiguous "connection reset".
 */
export class SdNextClient {
  /** The base URL without credentials, for messages and logs. */
  readonly displayUrl: string;
  private readonly base: URL;
  private readonly authHeader?: string;
  private readonly requestTimeoutMs: number;
  private readonly shortTimeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: SdNextClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      // Not echoed: the URL may carry a password.
      throw new SdNextError(SdNextErrorKind.Config, 'SD.Next base URL is not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SdNextError(SdNextErrorKind.Config, `SD.Next base URL must be http or https, not ${url.protocol}`);
    }
    const credentials =
      parseCredentials(options.auth) ??
      (url.username
        ? { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
        : undefined);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    url.pathname = url.pathname.replace(/\/+$/, '');
    this.base = url;
    this.displayUrl = `${url.origin}${url.pathname === '/' ? '' : url.pathname}`;
    if (credentials) {
      this.authHeader = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
    }
    this.requestTimeoutMs = positive(options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs');
    this.shortTimeoutMs = positive(options.shortTimeoutMs, DEFAULT_SHORT_TIMEOUT_MS, 'shortTimeoutMs');
    this.maxResponseBytes = positive(options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes');
  }

  /** Health and type check; never throws. A 404 on `/sdapi/v1/version` means A1111 (SDNEXT.md §7.1). */
  async probe(): Promise<SdProbeResult> {
    let flavour = SdBackendFlavour.Unknown;
    let version: string | undefined;
    try {
      const body = await this.getJson('/sdapi/v1/version');
      if (isRecord(body) && body.app === 'sd.next') {
        flavour = SdBackendFlavour.SdNext;
        const commit = asString(body.commit);
        version = commit && commit !== 'unknown' ? commit : asString(body.updated);
      }
    } catch (error) {
      const failure = this.asSdNextError(error);
      if (failure.kind !== SdNextErrorKind.NotFound) {
        return { reachable: failure.status !== undefined, flavour, error: failure };
      }
      flavour = SdBackendFlavour.A1111;
    }
    try {
      const options = await this.getJson('/sdapi/v1/options');
      const currentModel = isRecord(options) ? asString(options.sd_model_checkpoint) : undefined;
      return { reachable: true, flavour, version, currentModel };
    } catch (error) {
      const failure = this.asSdNextError(error);
      // 404 on both routes: whatever answers there is no Stable Diffusion API.
      if (failure.kind === SdNextErrorKind.NotFound && flavour === SdBackendFlavour.A1111) {
        flavour = SdBackendFlavour.Unknown;
      }
      return { reachable: failure.status !== undefined, flavour, version, error: failure };
    }
  }

  /**
   * Runs one generation and waits for it (the server answers only when it is done). SD.Next runs one generation
   * at a time; keep at most one call in flight per server. An empty `images` list fails with
   * `SdNextErrorKind.EmptyResult` unless `allowEmpty` is set or `send_images` is false.
   */
  async txt2img(params: Txt2ImgParams, options: Txt2ImgOptions = {}): Promise<Txt2ImgResult> {
    const endpoint = `POST ${TXT2IMG}`;
    const raw = await this.send('POST', TXT2IMG, {
      body: params,
      timeoutMs: this.requestTimeoutMs,
      signal: options.signal,
    });
    const body = this.parseJson(raw, endpoint);
    if (!isRecord(body) || !Array.isArray(body.images)) {
      throw new SdNextError(
        SdNextErrorKind.InvalidResponse,
        `${this.where(endpoint)} answered without an images list`,
        {
          endpoint,
          status: raw.status,
        },
      );
    }
    const images = body.images.map((item, index) => this.decodeImage(item, index, endpoint));
    const infoText = typeof body.info === 'string' ? body.info : isRecord(body.info) ? JSON.stringify(body.info) : '';
    const info = parseInfo(body.info);
    const seeds = Array.isArray(info.all_seeds) ? info.all_seeds.filter((s): s is number => typeof s === 'number') : [];
    const seed = typeof info.seed === 'number' ? info.seed : (seeds[0] ?? null);
    if (images.length === 0 && params.send_images !== false && !options.allowEmpty) {
      throw new SdNextError(
        SdNextErrorKind.EmptyResult,
        `${this.where(endpoint)}: generation produced no images (no model loaded, unknown checkpoint, out of memory ` +
          'or interrupted; the SD.Next log says which)',
        { endpoint, status: raw.status, info },
      );
    }
    const parameters = isRecord(body.parameters) ? body.parameters : {};
    return { images, info, infoText, parameters, seed, seeds };
  }

  /** Progress of whatever runs on the server (there is no task id), without the preview image. */
  async progress(): Promise<SdProgress> {
    const body = await this.getJson('/sdapi/v1/progress?skip_current_image=true');
    if (!isRecord(body)) {
      throw new SdNextError(SdNextErrorKind.InvalidResponse, `${this.where('GET /sdapi/v1/progress')} sent no object`, {
        endpoint: 'GET /sdapi/v1/progress',
      });
    }
    const state = isRecord(body.state) ? body.state : {};
    const eta = asNumber(body.eta_relative);
    return {
      progress: Math.min(Math.max(asNumber(body.progress), 0), 1),
      step: asNumber(state.sampling_step),
      steps: asNumber(state.sampling_steps),
      etaSeconds: eta > 0 ? eta : null,
      job: asString(state.job) ?? '',
      jobCount: asNumber(state.job_count),
      jobNo: asNumber(state.job_no),
      interrupted: state.interrupted === true,
      skipped: state.skipped === true,
      phaseId: typeof body.id === 'string' && body.id !== '' ? body.id : null,
    };
  }

  /**
   * Global and soft: the running generation stops at its next step and its txt2img call answers 200 with a
   * partial image or none. Requests waiting on the server's lock are not affected; sent while idle it is lost.
   */
  async interrupt(): Promise<void> {
    await this.send('POST', '/sdapi/v1/interrupt', { timeoutMs: this.shortTimeoutMs });
  }

  /** Skips the current batch iteration (`n_iter`) of the running generation. */
  async skip(): Promise<void> {
    await this.send('POST', '/sdapi/v1/skip', { timeoutMs: this.shortTimeoutMs });
  }

  /** LoRAs the server knows. Newly added files appear only after `refreshLoras()`. */
  async loras(): Promise<SdLora[]> {
    const body = await this.getList('/sdapi/v1/loras');
    return body.filter(isRecord).flatMap((item) => {
      const name = asString(item.name);
      if (!name) return [];
      return [
        {
          name,
          alias: asString(item.alias) ?? name,
          path: asString(item.path) ?? '',
          metadata: isRecord(item.metadata) ? item.metadata : {},
        },
      ];
    });
  }

  /** Rescans the server's LoRA folder. */
  async refreshLoras(): Promise<void> {
    await this.send('POST', '/sdapi/v1/refresh-loras', { timeoutMs: this.shortTimeoutMs });
  }

  async samplers(): Promise<SdSampler[]> {
    const body = await this.getList('/sdapi/v1/samplers');
    return body.filter(isRecord).flatMap((item) => {
      const name = asString(item.name);
      if (!name) return [];
      const aliases = Array.isArray(item.aliases) ? item.aliases.filter((a): a is string => typeof a === 'string') : [];
      return [{ name, aliases, options: isRecord(item.options) ? item.options : {} }];
    });
  }

  async models(): Promise<SdModel[]> {
    const body = await this.getList('/sdapi/v1/sd-models');
    return body.filter(isRecord).flatMap((item) => {
      const title = asString(item.title);
      if (!title) return [];
      return [
        {
          title,
          modelName: asString(item.model_name) ?? title,
          filename: asString(item.filename) ?? '',
          hash: asString(item.hash) ?? null,
          sha256: asString(item.sha256) ?? null,
          type: asString(item.type) ?? null,
        },
      ];
    });
  }

  // ---- plumbing ------------------------------------------------------------------------------------------

  private async getJson(path: string): Promise<unknown> {
    const raw = await this.send('GET', path, { timeoutMs: this.shortTimeoutMs });
    return this.parseJson(raw, `GET ${path.split('?')[0]}`);
  }

  private async getList(path: string): Promise<unknown[]> {
    const body = await this.getJson(path);
    if (!Array.isArray(body)) {
      throw new SdNextError(SdNextErrorKind.InvalidResponse, `${this.where(`GET ${path}`)} sent no list`, {
        endpoint: `GET ${path}`,
      });
    }
    return body as unknown[];
  }

  private where(endpoint: string): string {
    return `SD.Next ${this.displayUrl} ${endpoint}`;
  }

  private asSdNextError(error: unknown): SdNextError {
    if (error instanceof SdNextError) return error;
    return new SdNextError(SdNextErrorKind.InvalidResponse, `${this.where('call')} failed unexpectedly`, {
      cause: error,
    });
  }

  private parseJson(raw: RawResponse, endpoint: string): unknown {
    const text = raw.body.toString('utf8');
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new SdNextError(SdNextErrorKind.InvalidResponse, `${this.where(endpoint)} sent a body that is not JSON`, {
        endpoint,
        status: raw.status,
      });
    }
  }

  private decodeImage(item: unknown, index: number, endpoint: string): SdImage {
    const text = typeof item === 'string' ? item.replace(/^data:[^,]*;base64,/, '') : '';
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length === 0) {
      throw new SdNextError(SdNextErrorKind.InvalidResponse, `${this.where(endpoint)} sent image ${index} empty`, {
        endpoint,
      });
    }
    return { bytes, contentType: sniffImageType(bytes) };
  }

  private send(method: 'GET' | 'POST', path: string, options: SendOptions): Promise<RawResponse> {
    const endpoint = `${method} ${path.split('?')[0]}`;
    const url = new URL(this.base.href);
    const [pathname, query] = path.split('?');
    url.pathname = `${this.base.pathname.replace(/\/$/, '')}${pathname}`;
    url.search = query ? `?${query}` : '';
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: OutgoingHttpHeaders = { accept: 'application/json', 'accept-encoding': 'gzip, deflate, br' };
    if (this.authHeader) headers.authorization = this.authHeader; // sent up front: SD.Next sends no challenge
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    const secure = url.protocol === 'https:';

    return new Promise<RawResponse>((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(this.abortedError(endpoint));
        return;
      }
      let connected = false;
      let settled = false;
      const req = (secure ? httpsRequest : httpRequest)(url, { method, headers, agent: false });
      const settle = (error: SdNextError | undefined, response?: RawResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(connectTimer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) {
          req.destroy();
          reject(error);
        } else if (response) {
          resolve(response);
        }
      };
      const onAbort = () => settle(this.abortedError(endpoint));
      const timer = setTimeout(() => {
        settle(
          connected ? this.timeoutError(endpoint, options.timeoutMs) : this.unreachableError(endpoint, 'ETIMEDOUT'),
        );
      }, options.timeoutMs);
      // A black-holed host must not hold a txt2img call for its whole generation budget.
      const connectTimer = setTimeout(
        () => {
          if (!connected) settle(this.unreachableError(endpoint, 'ETIMEDOUT'));
        },
        Math.min(this.shortTimeoutMs, options.timeoutMs),
      );
      options.signal?.addEventListener('abort', onAbort, { once: true });

      req.on('socket', (socket) => {
        socket.once(secure ? 'secureConnect' : 'connect', () => {
          connected = true;
          // Keeps a silent multi-minute txt2img connection alive through NATs and proxies.
          socket.setKeepAlive(true, 30_000);
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        settle(connected ? this.resetError(endpoint, error) : this.unreachableError(endpoint, error.code, error));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > this.maxResponseBytes) settle(this.tooLargeError(endpoint, res.statusCode, 'sent'));
          else chunks.push(chunk);
        });
        res.on('error', (error: NodeJS.ErrnoException) => settle(this.resetError(endpoint, error)));
        res.on('close', () => {
          if (!res.complete) settle(this.resetError(endpoint));
        });
        res.on('end', () => {
          void this.finish(endpoint, res.statusCode ?? 0, res.headers, Buffer.concat(chunks)).then(
            (response) => settle(undefined, response),
            (error: unknown) => settle(this.asSdNextError(error)),
          );
        });
      });
      req.end(payload);
    });
  }

  private async finish(
    endpoint: string,
    status: number,
    headers: IncomingHttpHeaders,
    raw: Buffer,
  ): Promise<RawResponse> {
    const encoding = String(headers['content-encoding'] ?? '')
      .trim()
      .toLowerCase();
    let body = raw;
    const decode = DECODERS[encoding];
    if (decode && raw.length > 0) {
      try {
        body = await decode(raw, { maxOutputLength: this.maxResponseBytes });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          throw this.tooLargeError(endpoint, status, `${encoding}-decoded`);
        }
        throw new SdNextError(
          SdNextErrorKind.InvalidResponse,
          `${this.where(endpoint)} sent a corrupt ${encoding} body`,
          {
            endpoint,
            status,
            cause: error,
          },
        );
      }
    }
    const response = { status, headers, body };
    if (status >= 200 && status < 300) return response;
    throw this.httpError(endpoint, response);
  }

  private httpError(endpoint: string, raw: RawResponse): SdNextError {
    const text = raw.body.toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = undefined;
    }
    const status = raw.status;
    const summary = describeErrorBody(body, text);
    const suffix = summary ? `: ${summary}` : '';
    const base = { endpoint, status };
    switch (true) {
      case status === 401 || status === 403:
        return new SdNextError(
          SdNextErrorKind.Unauthorized,
          `${this.where(endpoint)} refused ${this.authHeader ? 'the configured credentials' : 'a request without credentials'}` +
            ` (${status}${suffix})`,
          base,
        );
      case status === 400:
        return new SdNextError(SdNextErrorKind.BadRequest, `${this.where(endpoint)} answered 400${suffix}`, base);
      case status === 404:
        return new SdNextError(SdNextErrorKind.NotFound, `${this.where(endpoint)} answered 404${suffix}`, base);
      case status === 422: {
        const details = validationDetails(body);
        const reason = details.length ? details.join('; ') : summary;
        return new SdNextError(SdNextErrorKind.Validation, `${this.where(endpoint)} rejected the request: ${reason}`, {
          ...base,
          details,
        });
      }
      case status === 429:
        return new SdNextError(
          SdNextErrorKind.RateLimited,
          `${this.where(endpoint)} answered 429 (rate limited); SD.Next checks its limit after the handler ran, so ` +
            'the work was done and its answer discarded',
          base,
        );
      case status >= 500:
        return new SdNextError(
          SdNextErrorKind.ServerError,
          `${this.where(endpoint)} failed with ${status}${suffix}`,
          base,
        );
      default:
        return new SdNextError(SdNextErrorKind.HttpError, `${this.where(endpoint)} answered ${status}${suffix}`, base);
    }
  }

  private unreachableError(endpoint: string, code = 'unknown error', cause?: unknown): SdNextError {
    return new SdNextError(
      SdNextErrorKind.Unreachable,
      `${this.where(endpoint)}: cannot connect (${code}); nothing was sent`,
      { endpoint, retryable: true, cause },
    );
  }

  private resetError(endpoint: string, cause?: NodeJS.ErrnoException): SdNextError {
    const generation = endpoint.endsWith(TXT2IMG) ? '; the generation may have run' : '';
    return new SdNextError(
      SdNextErrorKind.ConnectionReset,
      `${this.where(endpoint)}: connection lost after the request was sent` +
        ` (${cause?.code ?? 'closed early'})${generation}`,
      { endpoint, cause },
    );
  }

  private tooLargeError(endpoint: string, status: number | undefined, how: string): SdNextError {
    return new SdNextError(
      SdNextErrorKind.ResponseTooLarge,
      `${this.where(endpoint)} sent an answer larger than ${this.maxResponseBytes} bytes ${how}; refused`,
      { endpoint, status },
    );
  }

  private timeoutError(endpoint: string, timeoutMs: number): SdNextError {
    const generation = endpoint.endsWith(TXT2IMG) ? '; the generation may still be running on the server' : '';
    return new SdNextError(
      SdNextErrorKind.Timeout,
      `${this.where(endpoint)}: no answer within ${timeoutMs / 1000} s${generation}`,
      { endpoint },
    );
  }

  private abortedError(endpoint: string): SdNextError {
    const generation = endpoint.endsWith(TXT2IMG) ? '; the server was not told, call interrupt() to stop it' : '';
    return new SdNextError(SdNextErrorKind.Aborted, `${this.where(endpoint)}: aborted by the caller${generation}`, {
      endpoint,
    });
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new SdNextError(SdNextErrorKind.Config, `SD.Next client option ${name} must be a positive number`);
  }
  return value;
}

/** `info` is a JSON document encoded as a string: parse it a second time (SDNEXT.md §1.1). */
function parseInfo(info: unknown): Record<string, unknown> {
  if (isRecord(info)) return info;
  if (typeof info !== 'string' || info.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(info);
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}
