/** Why a call to SD.Next (or A1111) failed. */
export enum SdNextErrorKind {
  /** Bad client options (e.g. an unparseable base URL). */
  Config = 'config',
  /** No connection could be made (refused, DNS, unreachable, connect timeout): nothing was sent. */
  Unreachable = 'unreachable',
  /** 401/403: credentials missing or wrong. */
  Unauthorized = 'unauthorized',
  /** 400, e.g. an unknown sampler on A1111 ≥ 1.9. */
  BadRequest = 'bad-request',
  /** 404: unknown route, or an unknown sampler/LoRA on SD.Next. */
  NotFound = 'not-found',
  /** 422: the request body failed validation; `details` lists the fields. */
  Validation = 'validation',
  /** 429: SD.Next's limiter. It runs after the handler, so the work was done and its answer thrown away. */
  RateLimited = 'rate-limited',
  /** 5xx. */
  ServerError = 'server-error',
  /** Any other unexpected status. */
  HttpError = 'http-error',
  /** 200 with `images: []`: no model, unknown checkpoint, out of memory, interrupted (SDNEXT.md §1.6). */
  EmptyResult = 'empty-result',
  /** A 2xx body that is not what the API documents. */
  InvalidResponse = 'invalid-response',
  /** An answer larger than `maxResponseBytes`, as sent or once decompressed: refused before it fills memory. */
  ResponseTooLarge = 'response-too-large',
  /** No complete answer within the timeout; a generation may still be running on the server. */
  Timeout = 'timeout',
  /** The connection broke after the request was sent; a generation may have run. */
  ConnectionReset = 'connection-reset',
  /** The caller's AbortSignal fired; the server is not told (use interrupt). */
  Aborted = 'aborted',
}

export interface SdNextErrorOptions {
  /** True only when the request surely never reached the server, so a retry cannot run a generation twice. */
  retryable?: boolean;
  status?: number;
  /** e.g. `POST /sdapi/v1/txt2img`. */
  endpoint?: string;
  /** Readable per-field messages (422), e.g. `steps: Input should be a valid integer`. */
  details?: string[];
  /** The parsed `info` of an empty result, for diagnostics. */
  info?: Record<string, unknown>;
  cause?: unknown;
}

/** Every failure of `SdNextClient`. Messages never contain credentials. */
export class SdNextError extends Error {
  readonly retryable: boolean;
  readonly status?: number;
  readonly endpoint?: string;
  readonly details: readonly string[];
  readonly info?: Record<string, unknown>;

  constructor(
    readonly kind: SdNextErrorKind,
    message: string,
    options: SdNextErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
    this.status = options.status;
    this.endpoint = options.endpoint;
    this.details = options.details ?? [];
    this.info = options.info;
  }
}
