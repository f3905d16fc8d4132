import { describe, it, expect } from '@jest/globals';
import { Dialect } from './dialect.js';
import { buildToken } from './token.js';

describe('buildToken', () => {
  it('should write name and weight for both dialects', () => {
    expect(buildToken(Dialect.SdNext, { name: 'my_style', weight: 0.1 + 0.7 })).toBe('<lora:my_style:0.8>');
    expect(buildToken(Dialect.A1111, { name: 'my.style', weight: 1 })).toBe('<lora:my.style:1>');
  });

  it('should write unet as a named argument on SD.Next when only unet differs', () => {
    expect(buildToken(Dialect.SdNext, { name: 'x', weight: 0.8, unet: 0.5 })).toBe('<lora:x:0.8:unet=0.5>');
  });

  it('should write unet too on SD.Next when te differs, as unet defaults to te there', () => {
    expect(buildToken(Dialect.SdNext, { name: 'x', weight: 1, te: 0.5 })).toBe('<lora:x:1:te=0.5:unet=1>');
  });

  it('should write positional te and unet on A1111', () => {
    expect(buildToken(Dialect.A1111, { name: 'x', weight: 0.8, unet: 0.5 })).toBe('<lora:x:0.8:0.5>');
    expect(buildToken(Dialect.A1111, { name: 'x', weight: 1, te: 0.5 })).toBe('<lora:x:0.5:1>');
    expect(buildToken(Dialect.A1111, { name: 'x', weight: 1, te: 0.5, unet: 0.5 })).toBe('<lora:x:0.5>');
  });

  it('should keep negative weights', () => {
    expect(buildToken(Dialect.SdNext, { name: 'slider', weight: -1.5 })).toBe('<lora:slider:-1.5>');
  });

  it('should refuse a name that would break the token', () => {
    expect(() => buildToken(Dialect.SdNext, { name: 'a:b', weight: 1 })).toThrow(RangeError);
  });
});
