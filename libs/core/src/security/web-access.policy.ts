import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import {
  claimedOrigin,
  isLoopbackHost,
  peerTrust,
  type RequestFacts,
  requestOrigin,
  SAFE_METHODS,
} from './request-origin.js';

/** Why a request is refused before authentication: sent as the usual error body. */
export interface AccessRefusal {
  status: number;
  code: string;
  message: string;
}

const isApiPath = (path: string): boolean => path.startsWith('/api/') || path.startsWith('/socket.io');

/**
 * Which browsers may talk to the service. Without API keys every caller is admin, so only this service's own pages
 * may: a loopback `Host` (a DNS-rebinding page sends its own name) and no foreign `Origin`/`Referer` (a page on
 * another site posting to 127.0.0.1). With keys, requests authenticated by the session cookie that change something
 * must come from this service's own pages (CSRF); requests with a key in a header are programs and pass.
 */
@Injectable()
export class WebAccessPolicy {
  private readonly trusted: (remoteAddress: string | undefined) => boolean;
  private readonly keyless: boolean;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.trusted = peerTrust(config.trustProxy);
    this.keyless = config.apiKeys.length === 0;
  }

  /** The origin the client addressed (`http://127.0.0.1:3000`), trusting X-Forwarded-* only from TRUST_PROXY peers. */
  ownOrigin(facts: RequestFacts): string | null {
    return requestOrigin(facts, this.trusted);
  }

  /** The request came over TLS, directly or through a trusted proxy: session cookies are then `Secure`. */
  isSecure(facts: RequestFacts): boolean {
    return this.ownOrigin(facts)?.startsWith('https:') ?? facts.encrypted;
  }

  /** Host and Origin rules for every HTTP request and Socket.IO handshake, before any key is looked at. */
  refusal(facts: RequestFacts, method: string, path: string): AccessRefusal | null {
    if (!this.keyless) return null;
    const own = this.ownOrigin(facts);
    if (!isLoopbackHost(own)) {
      return {
        status: 403,
        code: 'host_not_allowed',
        message: 'Without API keys the service answers only to loopback host names (127.0.0.1, localhost, [::1])',
      };
    }
    const claimed = claimedOrigin(facts.headers);
    if (!claimed || claimed.origin === own) return null;
    // A link from another site to a page of the UI carries its Referer; reading or changing data does not pass.
    if (claimed.header === 'referer' && SAFE_METHODS.has(method) && !isApiPath(path)) return null;
    return {
      status: 403,
      code: 'cross_origin_refused',
      message: `Without API keys only this service's own pages may call it (${claimed.header} is another origin)`,
    };
  }

  /** Cookie-authenticated requests that change something need this service's own `Origin` (or `Referer`). */
  csrfRefusal(facts: RequestFacts): AccessRefusal | null {
    const claimed = claimedOrigin(facts.headers);
    const own = this.ownOrigin(facts);
    if (claimed && own !== null && claimed.origin === own) return null;
    return {
      status: 403,
      code: 'cross_site_request',
      message:
        'A request signed in with the session cookie must come from this service’s own pages (Origin or Referer)',
    };
  }
}
