import { describe, expect, it } from '@jest/globals';
import { generationIdFor } from './sdnext.backend.js';

describe('generationIdFor', () => {
  it('should give the same valid UUID for the same delivery, so a re-run finds its generation', () => {
    const delivery = '3f0e9a52-8f6c-4a51-9d3e-2b7c1e0d4a11';
    const id = generationIdFor(delivery);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(generationIdFor(delivery)).toBe(id);
  });

  it('should never equal the delivery id, nor collide for different deliveries', () => {
    const a = '3f0e9a52-8f6c-4a51-9d3e-2b7c1e0d4a11';
    const b = '3f0e9a52-8f6c-4a51-9d3e-2b7c1e0d4a12';
    expect(generationIdFor(a)).not.toBe(a);
    expect(generationIdFor(a)).not.toBe(generationIdFor(b));
  });
});
