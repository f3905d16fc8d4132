import { describe, expect, it } from '@jest/globals';
import { claimedOrigin, cookieValue, isLoopbackHost, originOf, peerTrust, requestOrigin } from './request-origin.js';

describe('requestOrigin', () => {
  const facts = (headers: Record<string, string>, remoteAddress = '127.0.0.1', encrypted = false) => ({
    headers,
    encrypted,
    remoteAddress,
  });

  it('should be the Host the client addressed, normalised like a browser Origin', () => {
    expect(requestOrigin(facts({ host: 'LocalHost:3000' }), peerTrust(false))).toBe('http://localhost:3000');
    expect(requestOrigin(facts({ host: 'lora.example:443' }, '10.0.0.1', true), peerTrust(false))).toBe(
      'https://lora.example',
    );
    expect(requestOrigin(facts({}), peerTrust(false))).toBeNull();
  });

  it('should believe X-Forwarded-Proto and -Host only from a trusted proxy', () => {
    const forwarded = {
      host: '127.0.0.1:3000',
      'x-forwarded-proto': 'https, http',
      'x-forwarded-host': 'lora.example',
    };
    expect(requestOrigin(facts(forwarded), peerTrust(false))).toBe('http://127.0.0.1:3000');
    expect(requestOrigin(facts(forwarded), peerTrust(['loopback']))).toBe('https://lora.example');
    expect(requestOrigin(facts(forwarded, '203.0.113.9'), peerTrust(['loopback']))).toBe('http://127.0.0.1:3000');
    expect(requestOrigin(facts(forwarded, '203.0.113.9'), peerTrust(true))).toBe('https://lora.example');
    expect(requestOrigin(facts(forwarded, '203.0.113.9'), peerTrust(1))).toBe('https://lora.example');
  });
});

describe('origin helpers', () => {
  it('should accept only loopback names as hosts of keyless requests', () => {
    for (const o of ['http://127.0.0.1:3000', 'http://localhost', 'http://[::1]:8080'])
      expect(isLoopbackHost(o)).toBe(true);
    for (const o of [
      'http://rebind.attacker.example:3000',
      'http://127.0.0.1.nip.io:3000',
      'http://localhost.attacker.example',
      'http://0.0.0.0:3000',
    ]) {
      expect(isLoopbackHost(o)).toBe(false);
    }
    expect(isLoopbackHost(null)).toBe(false);
  });

  it('should read Origin first, else the Referer’s origin, and treat odd values as foreign', () => {
    expect(claimedOrigin({ origin: 'https://a.example', referer: 'https://b.example/x' })).toEqual({
      origin: 'https://a.example',
      header: 'origin',
    });
    expect(claimedOrigin({ referer: 'https://b.example:443/x?y' })).toEqual({
      origin: 'https://b.example',
      header: 'referer',
    });
    expect(claimedOrigin({})).toBeUndefined();
    expect(claimedOrigin({ origin: 'null' })).toEqual({ origin: null, header: 'origin' });
    expect(originOf('file:///etc/passwd')).toBeNull();
    expect(originOf('http://user:pw@127.0.0.1:3000')).toBeNull();
  });

  it('should find one cookie among others', () => {
    expect(cookieValue('a=1; lm_session=abc.def; b=2', 'lm_session')).toBe('abc.def');
    expect(cookieValue('xlm_session=1', 'lm_session')).toBeUndefined();
    expect(cookieValue(undefined, 'lm_session')).toBeUndefined();
  });
});
