import { describe, it, expect } from '@jest/globals';
import { InvalidCompositionOptionError, WeightOutOfRangeError } from './composition-error.js';
import {
  checkWeight,
  defaultWeight,
  formatWeight,
  parseWeightCap,
  roundWeight,
  scaleWeight,
  weightCapFactor,
} from './weights.js';

describe('formatWeight', () => {
  it.each([
    [0.1 + 0.2, '0.3'],
    [0.8, '0.8'],
    [0.8000000001, '0.8'],
    [1, '1'],
    [1.0, '1'],
    [-0.5, '-0.5'],
    [1e-7, '0'],
    [-1e-7, '0'],
    [0.12345, '0.123'],
    [0.1236, '0.124'],
    [2.5, '2.5'],
    [-1.25, '-1.25'],
  ])('should print %p as %s', (n, expected) => {
    expect(formatWeight(n)).toBe(expected);
  });

  it('should refuse non-finite weights', () => {
    expect(() => formatWeight(Number.NaN)).toThrow(RangeError);
    expect(() => formatWeight(Infinity)).toThrow(RangeError);
  });
});

describe('roundWeight', () => {
  it('should round to 3 decimals without negative zero', () => {
    expect(roundWeight(0.1 + 0.2)).toBe(0.3);
    expect(Object.is(roundWeight(-0.0001), 0)).toBe(true);
  });
});

describe('defaultWeight', () => {
  it('should use the preferred weight when set', () => {
    expect(defaultWeight({ preferredWeight: 0.7 })).toBe(0.7);
  });

  it('should fall back to 1 without a preferred weight', () => {
    expect(defaultWeight({ preferredWeight: null })).toBe(1);
    expect(defaultWeight({})).toBe(1);
  });
});

describe('checkWeight', () => {
  const adapter = { id: 'a1', name: 'Painterly', minWeight: 0.2, maxWeight: 1.2 };

  it('should accept and round a weight inside the range', () => {
    expect(checkWeight(adapter, 0.55555, 'adapters[0].weight')).toBe(0.556);
    expect(checkWeight(adapter, 1.2000000001, 'adapters[0].weight')).toBe(1.2);
  });

  it('should throw a typed error naming the adapter and the field when out of range', () => {
    let error: unknown;
    try {
      checkWeight(adapter, 1.5, 'adapters[2].weight');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WeightOutOfRangeError);
    const typed = error as WeightOutOfRangeError;
    expect(typed.field).toBe('adapters[2].weight');
    expect(typed.adapterId).toBe('a1');
    expect(typed.message).toContain('Painterly');
    expect(typed.details).toEqual([{ field: 'adapters[2].weight', message: expect.any(String) }]);
  });

  it('should reject a weight below the minimum', () => {
    expect(() => checkWeight(adapter, 0.1, 'adapters[0].te')).toThrow(WeightOutOfRangeError);
  });

  it('should allow negative weights when the adapter has no range', () => {
    expect(checkWeight({ id: 'a', name: 'a' }, -0.5, 'w')).toBe(-0.5);
  });

  it('should reject non-finite weights', () => {
    expect(() => checkWeight({ id: 'a', name: 'a' }, Number.NaN, 'w')).toThrow(WeightOutOfRangeError);
  });

  it('should not enforce an inverted range from bad metadata', () => {
    expect(checkWeight({ id: 'a', name: 'a', minWeight: 1, maxWeight: 0 }, 0.5, 'w')).toBe(0.5);
  });
});

describe('weightCapFactor', () => {
  it('should leave weights under the cap alone', () => {
    expect(weightCapFactor([0.5, 0.5], 1)).toEqual({ total: 1, factor: 1, scaled: false });
    expect(weightCapFactor([0.1, 0.2], 0.3).scaled).toBe(false);
    expect(weightCapFactor([5, 5], null).scaled).toBe(false);
  });

  it('should scale when the sum of absolute weights exceeds the cap', () => {
    const result = weightCapFactor([1, -1, 0.5], 1.5);
    expect(result.scaled).toBe(true);
    expect(result.total).toBe(2.5);
    expect([1, -1, 0.5].map((w) => scaleWeight(w, result.factor))).toEqual([0.6, -0.6, 0.3]);
  });

  it('should never let rounding push the scaled sum above the cap', () => {
    const weights = [1, 1, 1];
    const { factor } = weightCapFactor(weights, 2);
    const scaled = weights.map((w) => scaleWeight(w, factor));
    expect(scaled).toEqual([0.666, 0.666, 0.666]);
    expect(scaled.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2);
  });
});

describe('parseWeightCap', () => {
  it('should accept absent or positive caps', () => {
    expect(parseWeightCap(undefined)).toBeNull();
    expect(parseWeightCap(2)).toBe(2);
  });

  it.each([0, -1, Number.NaN, '2'])('should reject %p', (value) => {
    expect(() => parseWeightCap(value)).toThrow(InvalidCompositionOptionError);
  });
});
