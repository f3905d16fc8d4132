import type { IncomingHttpHeaders } from 'node:http';
import { Injectable } from '@nestjs/common';
import { ApiKeyService, type Principal } from './api-key.service.js';
import { cookieValue } from './request-origin.js';
import { SESSION_COOKIE, SessionService } from './session.service.js';

/** How a caller proved who it is. */
export enum AuthMethod {
  /** No keys are configured: every caller on loopback is admin. */
  Open = 'open',
  /** `X-API-Key`, `Authorization: Bearer` or Socket.IO `auth.apiKey`. */
  Key = 'key',
  /** The browser session cookie. */
  Session = 'session',
}

export interface Authentication {
  principal: Principal;
  method: AuthMethod;
  /** When the session ends; null for keys and open access. */
  expiresAt: Date | null;
}

/** One rule for HTTP and Socket.IO: a presented key decides (a wrong key is never rescued by a cookie), else the session cookie. */
@Injectable()
export class RequestAuthenticator {
  constructor(
    private readonly keys: ApiKeyService,
    private readonly sessions: SessionService,
  ) {}

  get authRequired(): boolean {
    return this.keys.enabled;
  }

  authenticate(headers: IncomingHttpHeaders, presentedKey?: string): Authentication | null {
    const key = presentedKey ?? ApiKeyService.fromHeaders(headers);
    if (!this.keys.enabled || key !== undefined) {
      const principal = this.keys.verify(key);
      if (!principal) return null;
      return { principal, method: this.keys.enabled ? AuthMethod.Key : AuthMethod.Open, expiresAt: null };
    }
    const cookie = headers.cookie;
    const session = this.sessions.verify(
      cookieValue(Array.isArray(cookie) ? cookie.join('; ') : cookie, SESSION_COOKIE),
    );
    return session ? { principal: session.principal, method: AuthMethod.Session, expiresAt: session.expiresAt } : null;
  }
}
