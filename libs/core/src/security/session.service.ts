import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { ApiKeyService, type Principal } from './api-key.service.js';

/** The browser session cookie: a signed token that names a configured key by its id, never the key itself. */
export const SESSION_COOKIE = 'lm_session';

const MAX_TOKEN_LENGTH = 512;

export interface Session {
  principal: Principal;
  expiresAt: Date;
}

interface TokenPayload {
  /** `Principal.keyId` of the key the session was opened with. */
  k: string;
  /** Expiry, epoch milliseconds. */
  e: number;
  /** Makes each token unique. */
  n: string;
}

/**
 * Stateless sessions: `<payload>.<HMAC-SHA256>` with the server's secret. The role is the key's role at each request,
 * so a key removed from `API_KEYS` ends its sessions at the next restart; without `SESSION_SECRET` each process draws
 * its own secret, so sessions end on restart and do not carry across scale-out instances.
 */
@Injectable()
export class SessionService {
  private readonly secret: Buffer;
  readonly ttlMs: number;
  /** No SESSION_SECRET: this process made one up. */
  readonly secretIsEphemeral: boolean;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly keys: ApiKeyService,
  ) {
    this.secretIsEphemeral = config.session.secret === null;
    this.secret = config.session.secret === null ? randomBytes(32) : Buffer.from(config.session.secret, 'utf8');
    this.ttlMs = config.session.ttlMs;
  }

  /** A token for a valid API key, or null when the key is not one of the configured keys. */
  open(apiKey: string, now = Date.now()): { token: string; session: Session } | null {
    if (!this.keys.enabled) return null;
    const principal = this.keys.verify(apiKey);
    if (!principal) return null;
    const expiresAt = new Date(now + this.ttlMs);
    const payload: TokenPayload = {
      k: principal.keyId,
      e: expiresAt.getTime(),
      n: randomBytes(9).toString('base64url'),
    };
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return { token: `${body}.${this.sign(body)}`, session: { principal, expiresAt } };
  }

  /** The session a token stands for; null when it is malformed, forged, expired or its key is gone. */
  verify(token: string | undefined, now = Date.now()): Session | null {
    if (!token || token.length > MAX_TOKEN_LENGTH) return null;
    const dot = token.indexOf('.');
    if (dot <= 0) return null;
    const body = token.slice(0, dot);
    const presented = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(body), 'base64url');
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null;
    let payload: Partial<TokenPayload>;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<TokenPayload>;
    } catch {
      return null;
    }
    if (typeof payload.k !== 'string' || typeof payload.e !== 'number' || payload.e <= now) return null;
    const principal = this.keys.byKeyId(payload.k);
    return principal ? { principal, expiresAt: new Date(payload.e) } : null;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}
