// Header and sidecar values built to make regular expressions backtrack. Each used to hold the event loop for
// tens of seconds at 150,000 characters (asNumber 36 s, the A1111 activation-text split and tag stripper ~30 s
// each); `npm run bench` prints old and new figures. The bound below is under 1 % of those times.
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { a1111Json, buildSafetensors, civitaiVersionJson } from '../../../../test/support/corpus-builder.js';
import { asIsoDate, asNumber, MAX_NUMBER_CHARS } from './json-values.js';
import { mergeFacts } from './merge.js';
import { parseSafetensorsHeader } from './safetensors-header.js';
import { readA1111Json, splitActivationText, stripNetworkTokens } from './sidecar-a1111.js';
import { readCivitaiInfo } from './sidecar-civitai-info.js';

const LONG = 150_000;
const BOUND_MS = 250;
const ctx = { fileName: 'x.safetensors' };

function elapsedMs<T>(fn: () => T): { ms: number; value: T } {
  const started = performance.now();
  const value = fn();
  return { ms: performance.now() - started, value };
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe(asNumber.name, () => {
  it('should reject numeric text longer than any writer produces before any regular expression sees it', () => {
    const test = jest.spyOn(RegExp.prototype, 'test');
    expect(asNumber('1'.repeat(LONG))).toBeUndefined();
    expect(asNumber(`${'1'.repeat(LONG)}x`)).toBeUndefined();
    expect(asIsoDate(`2024-01-01${'1'.repeat(LONG)}`)).toBeUndefined();
    expect(test.mock.calls.filter(([s]) => s.length > MAX_NUMBER_CHARS)).toEqual([]);
  });

  it('should still read every numeric spelling writers use', () => {
    expect(['16', '16.0', '0.8', '.5', '5.', '+1', '-2.5', '1e-3', '2E+4', ' 7 '].map(asNumber)).toEqual([
      16, 16, 0.8, 0.5, 5, 1, -2.5, 0.001, 20_000, 7,
    ]);
    expect(['None', 'NaN', '1.2.3', '1e', '', 'e5', '..1'].map(asNumber)).toEqual(Array(7).fill(undefined));
    expect(asNumber('1'.repeat(MAX_NUMBER_CHARS))).toBe(Number('1'.repeat(MAX_NUMBER_CHARS)));
  });
});

describe('parsers given pathological values', () => {
  it('should read a header whose ss_network_dim and ss_network_alpha are 150,000 digits', () => {
    const digits = `${'1'.repeat(LONG)}x`;
    const built = buildSafetensors({
      metadata: { ss_network_dim: digits, ss_network_alpha: digits, ss_output_name: 'n' },
    });
    const n = Number(built.bytes.readBigUInt64LE(0));
    const { ms, value } = elapsedMs(() =>
      mergeFacts(parseSafetensorsHeader(built.bytes.subarray(8, 8 + n), built.size), [], undefined, {
        fileName: 'n.safetensors',
      }),
    );
    expect(ms).toBeLessThan(BOUND_MS);
    expect(value.name).toBe('n');
    expect(value.header).toMatchObject({ networkDim: undefined, networkAlpha: undefined });
  });

  it('should split and strip 150,000-character A1111 activation texts', () => {
    for (const activation of [
      `a${' '.repeat(LONG)}b`,
      `<${':'.repeat(LONG)}`,
      `<${'a'.repeat(LONG)}:${'b'.repeat(LONG)}`,
      `x, ${'<a:'.repeat(LONG / 3)}`,
    ]) {
      const { ms, value } = elapsedMs(() =>
        readA1111Json(
          { ...a1111Json({ activationText: activation }), 'preferred weight': `${'1'.repeat(LONG)}x` },
          ctx,
        ),
      );
      expect(ms).toBeLessThan(BOUND_MS);
      expect(value.preferredWeight).toBeUndefined();
    }
  });

  it('should keep what the tag stripper and the split did before', () => {
    expect(stripNetworkTokens('cat <lora:x:0.8>, dog <hypernet:a:b:1> <no colon>')).toBe('cat , dog  <no colon>');
    expect(splitActivationText('a,  b || c ||d, a')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('should read a .civitai.info whose numbers are 150,000 characters', () => {
    const digits = `${'7'.repeat(LONG)}x`;
    const json = {
      ...civitaiVersionJson({ id: 1 }),
      id: digits,
      modelId: digits,
      stats: { downloadCount: digits, rating: digits },
    };
    const { ms, value } = elapsedMs(() => readCivitaiInfo(json, ctx));
    expect(ms).toBeLessThan(BOUND_MS);
    expect(value.civitai?.versionId).toBeUndefined();
  });
});
