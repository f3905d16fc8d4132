import { describe, expect, it } from '@jest/globals';
import { urlRefusal } from './url-allow-list.js';

const allow = ['http://a.example', 'https://hooks.example:8443/in/', 'http://127.0.0.1:9000/deliver'];

describe('urlRefusal', () => {
  it.each([
    'http://a.example',
    'http://a.example/',
    'http://A.EXAMPLE/any/path?q=1',
    'http://a.example:80/x',
    'https://hooks.example:8443/in/x',
    'http://127.0.0.1:9000/deliver',
    'http://127.0.0.1:9000/deliver/sub',
  ])('should allow %s', (url) => {
    expect(urlRefusal(url, allow)).toBeNull();
  });

  it.each([
    'http://a.example.evil.com/',
    'http://a.example@evil.com/',
    'http://user:pw@a.example/',
    'https://a.example/',
    'http://a.example:8080/',
    'https://hooks.example/in/x',
    'https://hooks.example:8443/inx',
    'https://hooks.example:8443/in/../admin',
    'https://hooks.example:8443/in/%2e%2e/admin',
    'http://127.0.0.1:9000/deliverx',
    'http://127.0.0.1:9000/',
    'file:///etc/passwd',
    'not a url',
  ])('should refuse %s', (url) => {
    expect(urlRefusal(url, allow)).not.toBeNull();
  });

  it('should refuse everything when nothing is allow-listed', () => {
    expect(urlRefusal('http://a.example/', [])).toContain('no URL prefix');
  });
});
