import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type Principal, Role, errorMessage } from '@app/core';
import { BoundedBuffer } from '../bounded-buffer.js';
import {
  DeliveryAttemptError,
  type DeliveryBackend,
  type DeliveryBackendInfo,
  DeliveryCancelledError,
  type DeliveryContext,
} from '../delivery-backend.js';
import { DeliveryMode, type DeliveryJobEntity, type DeliveryResult } from '../delivery-job.entity.js';
import { ParamsReader } from '../params-reader.js';
import { urlRefusal } from './url-allow-list.js';

export const HTTP_DELIVERY_DEFAULT_TIMEOUT_MS = 10_000;
export const HTTP_DELIVERY_MAX_TIMEOUT_MS = 120_000;
/** Response bytes kept; reading stops past it and the result says `truncated: true`. */
export const HTTP_DELIVERY_MAX_RESPONSE_BYTES = 64 * 1024;

interface HttpParams {
  url: string;
  timeoutMs?: number;
}

interface PostOutcome {
  status: number;
  body: string;
  truncated: boolean;
  bytes: number;
}

/**
 * POSTs `{ prompt, negativePrompt, params, deliveryId }` as JSON to an allow-listed URL with `Idempotency-Key: <job
 * id>`. 5xx answers, connection errors and timeouts are retried by the job queue (same key, so a receiver can drop
 * duplicates); other non-2xx answers fail at once. Redirects are not followed: they could leave the allow-list.
 */
@Injectable()
export class HttpDeliveryBackend implements DeliveryBackend {
  readonly name = DeliveryMode.Http;
  readonly safeToRerun = true;
  private readonly allow: string[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.allow = config.delivery.httpAllow;
  }

  info(): DeliveryBackendInfo {
    return { name: this.name, allowList: [...this.allow], requiredRole: Role.Editor };
  }

  validate(params: Record<string, unknown>, _principal: Principal): Record<string, unknown> {
    const reader = new ParamsReader(params, ['url', 'timeoutMs']);
    const url = reader.string('url', { required: true, maxLength: 2048 });
    if (url !== undefined) {
      const refusal = urlRefusal(url, this.allow);
      if (refusal) reader.problem('url', refusal);
    }
    const timeoutMs = reader.int('timeoutMs', { min: 100, max: HTTP_DELIVERY_MAX_TIMEOUT_MS });
    reader.done();
    const out: HttpParams = { url: url as string };
    if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
    return { ...out };
  }

  async deliver(job: DeliveryJobEntity, context: DeliveryContext): Promise<DeliveryResult> {
    const params = job.params as unknown as HttpParams;
    // Re-checked at run time: the allow-list may have shrunk since the job was queued.
    const refusal = urlRefusal(params.url, this.allow);
    if (refusal) throw new DeliveryAttemptError(`url ${refusal}`, false);
    const body = Buffer.from(
      JSON.stringify({
        prompt: job.prompt,
        negativePrompt: job.negativePrompt,
        params: job.params,
        deliveryId: job.id,
      }),
    );
    const timeoutMs = params.timeoutMs ?? HTTP_DELIVERY_DEFAULT_TIMEOUT_MS;
    let outcome: PostOutcome;
    try {
      outcome = await post(params.url, body, job.id, timeoutMs, context.signal);
    } catch (error) {
      if (error instanceof DeliveryCancelledError) throw error;
      const reason = error instanceof TimeoutError ? `no answer within ${timeoutMs} ms` : connectionReason(error);
      throw new DeliveryAttemptError(`POST ${displayUrl(params.url)} failed: ${reason}`, true);
    }
    const result: DeliveryResult = { ...outcome };
    if (outcome.status >= 200 && outcome.status < 300) return result;
    throw new DeliveryAttemptError(
      `POST ${displayUrl(params.url)} answered HTTP ${outcome.status}`,
      outcome.status >= 500,
      result,
    );
  }
}

class TimeoutError extends Error {}

/** Scheme, host, port and path: the query may carry tokens, so it stays out of messages. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

function connectionReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = errorMessage(error);
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}

function post(url: string, body: Buffer, key: string, timeoutMs: number, signal: AbortSignal): Promise<PostOutcome> {
  return new Promise<PostOutcome>((resolve, reject) => {
    if (signal.aborted) {
      reject(new DeliveryCancelledError('cancelled before the request was sent'));
      return;
    }
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const req = send(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'idempotency-key': key,
        'user-agent': 'lora-manager-delivery',
      },
    });
    const timer = setTimeout(() => {
      finish(() => reject(new TimeoutError()));
      req.destroy();
    }, timeoutMs);
    const onAbort = (): void => {
      finish(() => reject(new DeliveryCancelledError('cancelled while the request was in flight')));
      req.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => finish(() => reject(error)));
    req.on('response', (res: IncomingMessage) => {
      const buffer = new BoundedBuffer(HTTP_DELIVERY_MAX_RESPONSE_BYTES);
      const done = (): void =>
        finish(() =>
          resolve({
            status: res.statusCode ?? 0,
            body: buffer.text(),
            truncated: buffer.truncated,
            bytes: buffer.bytesSeen,
          }),
        );
      res.on('data', (chunk: Buffer) => {
        if (!buffer.push(chunk)) {
          // Past the cap: stop reading and drop the connection rather than download the rest.
          done();
          res.destroy();
          req.destroy();
        }
      });
      res.on('end', done);
      res.on('error', (error) => finish(() => reject(error)));
      res.on('close', () => {
        if (!res.complete) finish(() => reject(new Error('the connection closed before the answer ended')));
      });
    });
    req.end(body);
  });
}
