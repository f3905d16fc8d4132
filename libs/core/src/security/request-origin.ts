import type { IncomingHttpHeaders } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { AppConfig } from '../config/app-config.js';

/** What the HTTP guard and the Socket.IO gateway both know about a request: the same rules apply to both. */
export interface RequestFacts {
  headers: IncomingHttpHeaders;
  /** The connection to this process is TLS. */
  encrypted: boolean;
  /** The immediate peer (a proxy, when there is one). */
  remoteAddress: string | undefined;
}

/** Methods a browser may send cross-site without asking, and that change nothing here. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Express's `trust proxy` rule for the immediate peer: whether to believe its X-Forwarded-* headers. */
export function peerTrust(trust: AppConfig['trustProxy']): (remoteAddress: string | undefined) => boolean {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') return () => trust > 0;
  const trusted = proxyAddr.compile(trust);
  return (remoteAddress) => remoteAddress !== undefined && trusted(remoteAddress, 0);
}

const firstValue = (value: string | string[] | undefined): string | undefined => {
  const raw = Array.isArray(value) ? value[0] : value;
  const first = raw?.split(',')[0]?.trim();
  return first ? first : undefined;
};

/** The scheme and host the client addressed (`https://lora.example:8443`), as Express computes them; null when unparseable. */
export function requestOrigin(
  facts: RequestFacts,
  trusted: (remoteAddress: string | undefined) => boolean,
): string | null {
  const viaProxy = trusted(facts.remoteAddress);
  const scheme =
    (viaProxy ? firstValue(facts.headers['x-forwarded-proto']) : undefined) ?? (facts.encrypted ? 'https' : 'http');
  const host = (viaProxy ? firstValue(facts.headers['x-forwarded-host']) : undefined) ?? facts.headers.host;
  if (!host || (scheme !== 'http' && scheme !== 'https')) return null;
  return originOf(`${scheme}://${host}`);
}

/** The origin of a URL (an `Origin` or `Referer` value), normalised (lower-case host, default port dropped); null when it is not one. */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
    if (parsed.username !== '' || parsed.password !== '') return null;
    return parsed.origin;
  } catch {
    return null;
  }
}

/** A loopback name (127.0.0.1, localhost, [::1]) with any port: a DNS-rebinding page can only send its own host name. */
export function isLoopbackHost(origin: string | null): boolean {
  if (origin === null) return false;
  return LOOPBACK_HOSTNAMES.has(new URL(origin).hostname);
}

/** Where a browser says the request comes from: the `Origin` header, else the `Referer`'s origin; undefined when neither is sent. */
export function claimedOrigin(
  headers: IncomingHttpHeaders,
): { origin: string | null; header: 'origin' | 'referer' } | undefined {
  const origin = headers.origin;
  if (typeof origin === 'string' && origin !== '') return { origin: originOf(origin), header: 'origin' };
  const referer = headers.referer;
  if (typeof referer === 'string' && referer !== '') return { origin: originOf(referer), header: 'referer' };
  return undefined;
}

/** The value of one cookie in a `Cookie` header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
  }
  return undefined;
}
