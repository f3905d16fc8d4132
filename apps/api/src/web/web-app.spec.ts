import { describe, expect, it } from '@jest/globals';
import { SERVER_PREFIXES, wantsWebApp } from './web-app.js';

const html = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('wantsWebApp', () => {
  it('should answer browser navigations to client-side routes', () => {
    expect(wantsWebApp('GET', '/library', html)).toBe(true);
    expect(wantsWebApp('GET', '/adapters/7b0c/edit', html)).toBe(true);
    expect(wantsWebApp('HEAD', '/studio', html)).toBe(true);
  });

  it('should never shadow the server paths, whatever the request accepts', () => {
    for (const prefix of SERVER_PREFIXES) {
      expect(wantsWebApp('GET', prefix, html)).toBe(false);
      expect(wantsWebApp('GET', `${prefix}/anything`, html)).toBe(false);
    }
    expect(wantsWebApp('GET', '/api/v1/adapters', html)).toBe(false);
    expect(wantsWebApp('GET', '/socket.io/', html)).toBe(false);
  });

  it('should leave non-GET requests and requests not asking for HTML to the API', () => {
    expect(wantsWebApp('POST', '/library', html)).toBe(false);
    expect(wantsWebApp('GET', '/library', 'application/json')).toBe(false);
    expect(wantsWebApp('GET', '/library', undefined)).toBe(false);
  });

  it('should treat a path that only starts like a server prefix as a client route', () => {
    expect(wantsWebApp('GET', '/apis', html)).toBe(true);
    expect(wantsWebApp('GET', '/healthy', html)).toBe(true);
  });
});
