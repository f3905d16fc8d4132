import type { ComposableAdapter } from './composable-adapter.js';
import { InvalidCompositionOptionError, WeightOutOfRangeError } from './composition-error.js';

/** SD.Next's `extra_networks_default_multiplier` and A1111's implicit multiplier. */
export const DEFAULT_WEIGHT = 1;

/** Weights are sent with at most this many decimals: finer steps change nothing visible and invite float noise. */
export const WEIGHT_DECIMALS = 3;

const SCALE = 10 ** WEIGHT_DECIMALS;

/** Rounds to {@link WEIGHT_DECIMALS} decimals; never returns `-0`. */
export function roundWeight(n: number): number {
  assertFinite(n);
  const rounded = Number(n.toFixed(WEIGHT_DECIMALS));
  return rounded === 0 ? 0 : rounded;
}

/**
 * Prints a weight for a token: at most 3 decimals, no trailing zeros, no float noise (`0.1 + 0.2` → `0.3`).
 * Whole numbers print without a decimal point (`1`, not `1.0`): both servers read multipliers with Python's
 * `float()`, which accepts either, and `1` is what SD.Next's own UI writes for the default.
 */
export function formatWeight(n: number): string {
  assertFinite(n);
  let text = n.toFixed(WEIGHT_DECIMALS);
  if (text.includes('.') && !text.includes('e')) text = text.replace(/0+$/, '').replace(/\.$/, '');
  return text === '-0' ? '0' : text;
}

/** The weight used when the request gives none: the adapter's preferred weight, else 1. */
export function defaultWeight(adapter: Pick<ComposableAdapter, 'preferredWeight'>): number {
  const preferred = adapter.preferredWeight;
  return typeof preferred === 'number' && Number.isFinite(preferred) ? roundWeight(preferred) : DEFAULT_WEIGHT;
}

/**
 * Checks a requested weight against the adapter's min/max and returns it rounded as it will be sent.
 * The comparison uses the rounded value, so `1.0000000001` passes a max of 1. An inverted range
 * (min > max) is bad metadata, not a user mistake, so it is not enforced.
 */
export function checkWeight(
  adapter: Pick<ComposableAdapter, 'id' | 'name' | 'minWeight' | 'maxWeight'>,
  value: number,
  field: string,
): number {
  const min = finiteOrNull(adapter.minWeight);
  const max = finiteOrNull(adapter.maxWeight);
  if (!Number.isFinite(value)) throw new WeightOutOfRangeError(adapter.id, adapter.name, field, value, min, max);
  const rounded = roundWeight(value);
  if (min !== null && max !== null && min > max) return rounded;
  if ((min !== null && rounded < min) || (max !== null && rounded > max)) {
    throw new WeightOutOfRangeError(adapter.id, adapter.name, field, rounded, min, max);
  }
  return rounded;
}

/** Narrows the request's `weightCap`: absent → no cap; otherwise a finite number above 0. */
export function parseWeightCap(value: unknown, field = 'weightCap'): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidCompositionOptionError(field, 'must be a finite number above 0');
  }
  return value;
}

export interface WeightCapResult {
  /** Sum of the absolute weights before scaling. */
  total: number;
  /** Multiplier applied to every weight (1 when under the cap). */
  factor: number;
  scaled: boolean;
}

/** Decides whether the weights exceed `cap` (sum of absolute values) and by which factor to scale them all. */
export function weightCapFactor(weights: readonly number[], cap: number | null): WeightCapResult {
  const total = weights.reduce((sum, w) => sum + Math.abs(w), 0);
  // The epsilon keeps float noise in the sum (0.1 + 0.2 > 0.3) from scaling an exact fit.
  if (cap === null || total <= cap + 1e-9) return { total, factor: 1, scaled: false };
  return { total, factor: cap / total, scaled: true };
}

/**
 * Scales one weight by a cap factor, rounding toward zero at 3 decimals so the scaled sum never exceeds the cap.
 */
export function scaleWeight(weight: number, factor: number): number {
  if (factor === 1) return roundWeight(weight);
  // toPrecision strips the noise of `x * 1000` (0.3 * 1000 = 300.00000000000006) before truncating.
  const scaled = Math.trunc(Number((weight * factor * SCALE).toPrecision(12))) / SCALE;
  return scaled === 0 ? 0 : scaled;
}

function finiteOrNull(n: number | null | undefined): number | null {
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

function assertFinite(n: number): void {
  if (!Number.isFinite(n)) throw new RangeError(`weight must be a finite number, got ${n}`);
}
