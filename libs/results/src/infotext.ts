/** One LoRA of a result as the generator got it: the token name sent, its weight, the adapter it resolved to. */
export interface ResultLora {
  /** Library adapter the token name resolved to; null when no library file claims it. */
  adapterId: string | null;
  /** The name inside `<lora:name:weight>` as sent. */
  name: string;
  weight: number;
  sha256: string | null;
  autov2: string | null;
  baseModel: string | null;
}

const LORA_TOKEN = /<(?:lora|lyco):([^:<>]+):([^:<>]+)(?::[^<>]*)?>/gi;
const MAX_TOKENS = 1_000;

/** `<lora:name:weight…>` tokens of a prompt, first occurrence of each name; a weight that is no number counts as 1. */
export function loraTokensOf(prompt: string): { name: string; weight: number }[] {
  const out = new Map<string, number>();
  for (const match of prompt.matchAll(LORA_TOKEN)) {
    if (out.size >= MAX_TOKENS) break;
    const name = match[1].trim();
    const weight = Number(match[2]);
    if (name && !out.has(name)) out.set(name, Number.isFinite(weight) ? weight : 1);
  }
  return [...out].map(([name, weight]) => ({ name, weight }));
}

export interface InfotextFacts {
  prompt: string;
  negativePrompt: string | null;
  steps: number | null;
  sampler: string | null;
  cfgScale: number | null;
  seed: number | null;
  width: number | null;
  height: number | null;
  model: string | null;
  loras: ResultLora[];
}

/** A value as A1111 writes it in the parameter line: quoted (JSON-style) when it holds a comma, colon or quote. */
function quoted(value: string): string {
  return /[,:"\n]/.test(value) ? JSON.stringify(value) : value;
}

/**
 * The A1111-style infotext (`parameters` PNG chunk) that A1111, SD.Next, Civitai and ComfyUI readers take: the
 * prompt, `Negative prompt: …`, then `Steps: …, Sampler: …, CFG scale: …, Seed: …, Size: WxH, Model: …,
 * Lora hashes: "name: autov2, …"`. LoRAs without a known AutoV2 are left out of the hashes.
 */
export function buildInfotext(facts: InfotextFacts): string {
  const lines = [facts.prompt];
  if (facts.negativePrompt) lines.push(`Negative prompt: ${facts.negativePrompt}`);
  const fields: [string, string | number | null][] = [
    ['Steps', facts.steps],
    ['Sampler', facts.sampler],
    ['CFG scale', facts.cfgScale],
    ['Seed', facts.seed],
    ['Size', facts.width && facts.height ? `${facts.width}x${facts.height}` : null],
    ['Model', facts.model],
  ];
  const hashes = facts.loras
    .filter((l) => l.autov2)
    .map((l) => `${l.name.replace(/[,:"]/g, '_')}: ${l.autov2}`)
    .join(', ');
  if (hashes) fields.push(['Lora hashes', `"${hashes}"`]);
  const params = fields
    .filter((f): f is [string, string | number] => f[1] !== null && f[1] !== '')
    .map(([k, v]) => `${k}: ${k === 'Lora hashes' || typeof v === 'number' ? String(v) : quoted(v)}`)
    .join(', ');
  if (params) lines.push(params);
  return lines.join('\n');
}
