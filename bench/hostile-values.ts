// npm run bench:hostile-values — header and sidecar values built to make regular expressions backtrack, read by
// today's parsers, next to the patterns they used before (measured in the same run on the same values).
import { report } from './bench-util.js';

const { buildSafetensors } = await import('../test/support/corpus-builder.js');
const { mergeFacts, parseSafetensorsHeader, readA1111Json } = await import('../libs/adapters/src/index.js');

/** Baseline length: the old patterns take seconds here already (and grow with the square of it). */
const BASELINE_CHARS = Number(process.env.BENCH_BASELINE_CHARS ?? 20_000);
/** The length of the reported attack (a 150,000-character `ss_network_dim` held the event loop 36 s). */
const ATTACK_CHARS = 150_000;

const OLD_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const OLD_ACTIVATION_SPLIT = /\s*\|\|\s*|,/;
const OLD_TAG_STRIPPER = /<[^<>]*:[^<>]*>/g;

function ms(fn: () => unknown): number {
  const started = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const headerWith = (dim: string) => {
  const built = buildSafetensors({ metadata: { ss_network_dim: dim, ss_output_name: 'n' } });
  const n = Number(built.bytes.readBigUInt64LE(0));
  return () =>
    mergeFacts(parseSafetensorsHeader(built.bytes.subarray(8, 8 + n), built.size), [], undefined, {
      fileName: 'n.safetensors',
    });
};
const a1111With = (activation: string) => () =>
  readA1111Json({ 'activation text': activation }, { fileName: 'n.safetensors' });

const cases: {
  name: string;
  value: (n: number) => string;
  old: (v: string) => unknown;
  now: (v: string) => () => unknown;
}[] = [
  {
    name: 'ss_network_dim of digits + "x" (header → mergeFacts)',
    value: (n) => `${'1'.repeat(n)}x`,
    old: (v) => OLD_NUMBER.test(v),
    now: headerWith,
  },
  {
    name: 'A1111 activation text, a run of spaces (split)',
    value: (n) => `a${' '.repeat(n)}b`,
    old: (v) => v.split(OLD_ACTIVATION_SPLIT),
    now: a1111With,
  },
  {
    name: 'A1111 activation text, "<" and colons (tag stripper)',
    value: (n) => `<${':'.repeat(n)}`,
    old: (v) => v.replace(OLD_TAG_STRIPPER, ''),
    now: a1111With,
  },
];

const rows = [];
for (const c of cases) {
  const small = c.value(BASELINE_CHARS);
  const old = ms(() => c.old(small));
  const now = ms(c.now(small));
  const attack = ms(c.now(c.value(ATTACK_CHARS)));
  rows.push({
    metric: `${c.name}: ${BASELINE_CHARS.toLocaleString('en')} chars (${ATTACK_CHARS.toLocaleString('en')} now)`,
    measured: `${now.toFixed(1)} ms (${attack.toFixed(1)} ms)`,
    baseline: `${old.toFixed(0)} ms old pattern alone (≈ ${((old * (ATTACK_CHARS / BASELINE_CHARS) ** 2) / 1000).toFixed(0)} s at ${ATTACK_CHARS.toLocaleString('en')})`,
    target: '< 1 % of old',
  });
}
report('Pathological header and sidecar values (event loop held per value)', rows);
