/** A parsed allow-list entry: scheme, host and port must be equal, and the path must start at a segment boundary. */
interface UrlPrefix {
  protocol: string;
  hostname: string;
  port: string;
  path: string;
}

function parsePrefix(prefix: string): UrlPrefix | null {
  try {
    const u = new URL(prefix);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return { protocol: u.protocol, hostname: u.hostname, port: u.port, path: u.pathname };
  } catch {
    return null;
  }
}

function pathMatches(path: string, prefix: string): boolean {
  if (prefix === '/' || path === prefix) return true;
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return path.startsWith(base);
}

/**
 * Why `url` may not be posted to, or null when it may. Compared on parsed URLs (WHATWG: lower-cased host, default
 * port dropped, `..` and `%2e%2e` resolved), so `http://a.example` does not allow `http://a.example.evil.com`,
 * `http://a.example@evil.com` or `http://a.example:8080`, and `http://a.example/hooks` does not allow `/hooksevil`.
 */
export function urlRefusal(url: string, prefixes: readonly string[]): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http(s) URL';
  if (u.username !== '' || u.password !== '') return 'must not contain credentials';
  const allowed = prefixes
    .map(parsePrefix)
    .some(
      (p) =>
        p !== null &&
        p.protocol === u.protocol &&
        p.hostname === u.hostname &&
        p.port === u.port &&
        pathMatches(u.pathname, p.path),
    );
  if (allowed) return null;
  return prefixes.length === 0
    ? 'is not allowed: no URL prefix is allow-listed (DELIVERY_HTTP_ALLOW)'
    : 'is not allowed: it must start with one of the DELIVERY_HTTP_ALLOW prefixes';
}
