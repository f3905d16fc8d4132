import { describe, expect, it } from '@jest/globals';
import { mapStrings, redactUrlSecrets } from './disclosure.js';

describe('redactUrlSecrets', () => {
  it('should keep scheme, host and path of every URL in a text and drop userinfo, query and fragment', () => {
    expect(redactUrlSecrets('POST https://user:pw@hooks.example/a/b?token=s3cret&x=1#frag failed')).toBe(
      'POST https://***@hooks.example/a/b?***#*** failed',
    );
    expect(redactUrlSecrets('http://h.example/p')).toBe('http://h.example/p');
    expect(redactUrlSecrets('two: http://a.example/?k=1 and ftp://b.example/x?y=2')).toBe(
      'two: http://a.example/?*** and ftp://b.example/x?***',
    );
    expect(redactUrlSecrets('no url ?token=1')).toBe('no url ?token=1');
  });
});

describe('mapStrings', () => {
  it('should apply to every string, nested, and leave other values and keys alone', () => {
    expect(mapStrings({ a: 'x', b: [1, 'y', { c: 'z', d: null }], 'k?': true }, (s) => s.toUpperCase())).toEqual({
      a: 'X',
      b: [1, 'Y', { c: 'Z', d: null }],
      'k?': true,
    });
  });
});
