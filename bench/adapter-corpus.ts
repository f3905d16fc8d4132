// The synthetic library of the query and recommendation benchmarks: deterministic, so runs are comparable.
// mulberry32: integer arithmetic only (an LCG in doubles loses precision and falls into short cycles).
let seed = 42;
const rand = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
/** Zipf-like: low indexes much more common, as real tag and word usage is. */
const skewed = <T>(xs: readonly T[]): T => xs[Math.floor(Math.pow(rand(), 2.5) * xs.length)];

/**
 * Realistic vocabulary: name words follow a Zipf law over 3,000 words (a few real LoRA words at chosen ranks,
 * the rest generated), so that a typical search term matches 0.1–2.5 % of the library, as real names and
 * tags do. One deliberately common word ("style", rank 2, ~15 %) is measured as its own case.
 */
const REAL_WORDS = [
  'anime',
  'style',
  'detail',
  'realistic',
  'portrait',
  'girl',
  'armor',
  'pixel',
  'watercolor',
  'sketch',
  'oil',
  'painting',
  'slider',
  'lighting',
  'retro',
  'vintage',
  'film',
  'noir',
  'gothic',
  'kawaii',
  'chibi',
  'landscape',
  'city',
  'ocean',
  'space',
  'galaxy',
  'steampunk',
  'fantasy',
  'horror',
  'cute',
  'cat',
  'dog',
  'fox',
  'wolf',
  'bird',
  'eyes',
  'hair',
  'dress',
  'uniform',
  'robot',
  'flower',
  'forest',
  'water',
  'samurai',
  'vampire',
  'elf',
  'tattoo',
  'lineart',
];
/** Search terms and the Zipf rank each gets (expected share of rows ≈ 2.5 / (8.6 · rank)). */
export const SEARCH_TERMS: [string, number][] = [
  ['dragon', 12],
  ['cyber', 20],
  ['knight', 30],
  ['ghibli', 45],
  ['witch', 70],
  ['neon', 110],
  ['mecha', 170],
  ['origami', 260],
];
export const COMMON_TERM = 'style';
const SYLLABLES = [
  'ka',
  'ro',
  'mi',
  'zen',
  'tor',
  'vel',
  'sha',
  'lu',
  'nix',
  'dar',
  'po',
  'qui',
  'ber',
  'tal',
  'ose',
  'fen',
  'gri',
  'mo',
  'yan',
  'el',
  'stra',
  'ju',
  'kor',
  'ith',
];
function vocabulary(size: number): string[] {
  const fixed = new Map<number, string>([
    [1, 'anime'],
    [2, COMMON_TERM],
    ...SEARCH_TERMS.map(([w, r]) => [r, w] as [number, string]),
  ]);
  const others = REAL_WORDS.filter((w) => ![...fixed.values()].includes(w));
  others.forEach((w, i) => {
    let r = 3 + i * 7;
    while (fixed.has(r)) r++;
    fixed.set(r, w);
  });
  const taken = new Set(fixed.values());
  const out: string[] = [];
  for (let r = 1; r <= size; r++) {
    let w = fixed.get(r);
    while (!w || (!fixed.has(r) && taken.has(w))) {
      w = Array.from({ length: 2 + Math.floor(rand() * 2) }, () => pick(SYLLABLES)).join('');
    }
    taken.add(w);
    out.push(w);
  }
  return out;
}
const zipfCdf = (size: number): number[] => {
  const cdf: number[] = [];
  let sum = 0;
  for (let r = 1; r <= size; r++) cdf.push((sum += 1 / r));
  return cdf.map((c) => c / sum);
};
const NAME_WORDS = vocabulary(3000);
/** The name vocabulary, most used first (Zipf rank 1 first). */
export const NAME_VOCABULARY: readonly string[] = NAME_WORDS;
const NAME_CDF = zipfCdf(NAME_WORDS.length);
const zipf = (): string => {
  const x = rand();
  let lo = 0;
  let hi = NAME_CDF.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (NAME_CDF[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return NAME_WORDS[lo];
};
export const TAG_WORDS = [
  'character',
  'woman',
  'clothing',
  'concept',
  'photorealistic',
  'celebrity',
  'background',
  'poses',
  'tool',
  'objects',
  'buildings',
  'vehicle',
  'animal',
  'man',
  'sci-fi',
  'game character',
  'outfit',
  'meme',
  'nsfw',
  'sexy',
];
export const TAGS = Array.from({ length: 400 }, (_, i) => (i < TAG_WORDS.length ? TAG_WORDS[i] : `tag${i}`));
export const BASES = ['SD 1.5', 'SDXL 1.0', 'Pony', 'Illustrious', 'Flux.1 D', 'SD 3.5', 'NoobAI', 'SD 2.1'];
const TYPES = ['LORA', 'LoCon', 'DoRA', 'LyCORIS'];
/** The top folders of the seeded library: one per base model. */
export const FOLDERS = BASES.map((b) => b.replace(/\W+/g, '_'));
const CREATORS = Array.from({ length: 2000 }, (_, i) => `creator${i}`);

export function adapterSpec(i: number, rootId: string) {
  const words = [...new Set(Array.from({ length: 2 + Math.floor(rand() * 2) }, zipf))];
  const tags = [...new Set(Array.from({ length: 3 + Math.floor(rand() * 5) }, () => skewed(TAGS)))];
  const created = new Date(Date.UTC(2023, 0, 1) + Math.floor(rand() * 3 * 365 * 86_400_000));
  return {
    rootId,
    relativePath: `${pick(BASES).replace(/\W+/g, '_')}/${pick(TAG_WORDS)}/${words.join('_')}_${i}.safetensors`,
    name: `${words.map((w) => w[0].toUpperCase() + w.slice(1)).join(' ')} v${i % 7}`,
    baseModel: skewed(BASES),
    modelType: skewed(TYPES),
    creator: skewed(CREATORS),
    tags,
    trainedWords: [`${words[0]}_${i % 1000}`, words[1] ?? words[0]],
    triggerWords: i % 5 === 0 ? [words[words.length - 1]] : [],
    nsfwLevel: pick([0, 1, 3, 4, 8, 16, 31]),
    downloads: Math.floor(Math.pow(rand(), 3) * 100_000),
    likes: Math.floor(Math.pow(rand(), 3) * 10_000),
    rating: rand() < 0.2 ? null : Math.round(rand() * 50) / 10,
    fileSize: 10_000_000 + Math.floor(rand() * 200_000_000),
    sha256: i % 50 === 0 ? 'f'.repeat(64) : null,
    civitaiModelId: i % 3 === 0 ? 1000 + i : null,
    previewPath: i % 2 === 0 ? `p/${i}.png` : null,
    // 2.5 % with import warnings (a broken sidecar), without drawing from the generator: the rest stays as it was.
    warnings: i % 40 === 7 ? ['.civitai.info: not valid JSON'] : [],
    favorite: rand() < 0.05,
    active: rand() < 0.9,
    missingSince: i % 100 === 0 ? new Date(Date.UTC(2025, 5, 1)) : null,
    createdAt: created,
    updatedAt: created,
  };
}
