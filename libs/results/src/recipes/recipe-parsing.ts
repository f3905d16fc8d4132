/** Most LoRAs one recipe holds; an image naming more keeps the first ones and says so. */
export const MAX_RECIPE_LORAS = 200;
/** Longest LoRA name kept (a file stem; longer is not a name). */
const MAX_LORA_NAME = 255;

export interface ParsedLora {
  /** The name as the image gives it: a `<lora:…>` token name, or a ComfyUI file name's stem. */
  name: string;
  weight: number;
  /** A hash the image gives for it (`Lora hashes`: AutoV3 12-hex from A1111, 8-hex from SD.Next), lower-case. */
  hash: string | null;
  /** The file name a ComfyUI graph gives (`folder/name.safetensors`). */
  fileName: string | null;
}

export interface ParseWarning {
  code: string;
  message: string;
}

/** Generation settings read from an image; wire names of a generation request where one exists. */
export interface RecipeParameters {
  steps?: number;
  sampler_name?: string;
  scheduler?: string;
  cfg_scale?: number;
  seed?: number;
  width?: number;
  height?: number;
  clip_skip?: number;
  denoising_strength?: number;
  /** Checkpoint name. */
  model?: string;
  model_hash?: string;
}

export interface ParsedRecipe {
  /** Where the facts came from. */
  origin: 'a1111' | 'comfyui' | 'none';
  prompt: string;
  negativePrompt: string | null;
  parameters: RecipeParameters;
  loras: ParsedLora[];
  warnings: ParseWarning[];
}

const num = (value: unknown): number | undefined => {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() ? value.trim().slice(0, 512) : undefined;

/** A LoRA name as the library stores token names: the stem of a file name, no folder, no extension. */
export function loraStemOf(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.replace(/\.(safetensors|ckpt|pt|pth|bin|lora)$/i, '');
}

/** Caps the LoRA list and warns once about the rest. */
function capped(loras: ParsedLora[], warnings: ParseWarning[]): ParsedLora[] {
  if (loras.length <= MAX_RECIPE_LORAS) return loras;
  warnings.push({
    code: 'too_many_loras',
    message: `the image names ${loras.length} LoRAs; a recipe keeps the first ${MAX_RECIPE_LORAS}`,
  });
  return loras.slice(0, MAX_RECIPE_LORAS);
}

// ---------------------------------------------------------------- A1111 / SD.Next infotext

const TOKEN = /<(lora|lyco):([^<>]*)>/gi;
/** One `Key: value` pair of the parameter line; values with commas are JSON-quoted. */
const PARAM = /\s*([\w][\w \-/+]*?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g;

/** `<lora:name:weight…>` tokens (first of each name) and a warning per malformed one. */
export function loraTokens(prompt: string, warnings: ParseWarning[]): ParsedLora[] {
  const out = new Map<string, ParsedLora>();
  const bad: string[] = [];
  for (const match of prompt.matchAll(TOKEN)) {
    const parts = match[2].split(':');
    const name = parts[0].trim();
    if (!name || name.length > MAX_LORA_NAME) {
      bad.push(match[0]);
      continue;
    }
    let weight = 1;
    if (parts.length > 1) {
      const raw = parts[1].trim().replace(/^te=/, '');
      const value = Number(raw);
      if (raw === '' || !Number.isFinite(value)) {
        bad.push(match[0]);
        continue;
      }
      weight = value;
    }
    if (!out.has(name)) out.set(name, { name, weight, hash: null, fileName: null });
  }
  // An opening `<lora:` never closed
  const unclosed = prompt.match(/<(lora|lyco):[^<>]*(?=<|$)/gi) ?? [];
  bad.push(...unclosed);
  if (bad.length > 0) {
    const shown = bad
      .slice(0, 3)
      .map((t) => (t.length > 60 ? `${t.slice(0, 57)}…` : t))
      .join(', ');
    warnings.push({
      code: 'malformed_lora_token',
      message: `${bad.length} LoRA token(s) not understood and left out: ${shown}`,
    });
  }
  return [...out.values()];
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v.slice(1, -1);
    }
  }
  return v;
}

/** The parameter line's pairs, or null when the line is not one (fewer than 3 pairs, as A1111 decides). */
function parameterPairs(line: string): Map<string, string> | null {
  const pairs = new Map<string, string>();
  for (const m of line.matchAll(PARAM)) {
    if (m[0] === '') break;
    pairs.set(m[1].trim(), unquote(m[2]));
  }
  return pairs.size >= 3 ? pairs : null;
}

/** `"name: hash, name: hash"` of `Lora hashes` (A1111) or `LoRA hashes` (SD.Next). */
function loraHashes(value: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (value ?? '').split(',')) {
    const at = part.lastIndexOf(':');
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    const hash = part
      .slice(at + 1)
      .trim()
      .toLowerCase();
    if (name && /^[0-9a-f]{8,64}$/.test(hash) && !out.has(name)) out.set(name, hash);
  }
  return out;
}

/** Parses an A1111/SD.Next infotext: prompt lines, `Negative prompt:` lines, then the parameter line. */
export function parseInfotext(text: string): ParsedRecipe {
  const warnings: ParseWarning[] = [];
  const lines = text.replace(/\r\n?/g, '\n').trim().split('\n');
  let pairs: Map<string, string> | null = null;
  if (lines.length > 0) {
    pairs = parameterPairs(lines[lines.length - 1]);
    if (pairs) lines.pop();
  }
  const prompt: string[] = [];
  const negative: string[] = [];
  let inNegative = false;
  for (const line of lines) {
    if (!inNegative && line.startsWith('Negative prompt:')) {
      inNegative = true;
      negative.push(line.slice('Negative prompt:'.length).trim());
    } else (inNegative ? negative : prompt).push(line);
  }
  const p = pairs ?? new Map<string, string>();
  if (!pairs) warnings.push({ code: 'no_parameters', message: 'the infotext has no parameter line (Steps: …)' });
  const parameters: RecipeParameters = {};
  const size = /^(\d+)x(\d+)$/.exec(p.get('Size') ?? '');
  const set = <K extends keyof RecipeParameters>(key: K, value: RecipeParameters[K] | undefined): void => {
    if (value !== undefined) parameters[key] = value;
  };
  set('steps', num(p.get('Steps')));
  set('sampler_name', str(p.get('Sampler')));
  set('scheduler', str(p.get('Schedule type') ?? p.get('Scheduler')));
  set('cfg_scale', num(p.get('CFG scale')));
  set('seed', num(p.get('Seed')));
  set('width', size ? Number(size[1]) : undefined);
  set('height', size ? Number(size[2]) : undefined);
  set('clip_skip', num(p.get('Clip skip')));
  set('denoising_strength', num(p.get('Denoising strength')));
  set('model', str(p.get('Model')));
  set('model_hash', str(p.get('Model hash'))?.toLowerCase());

  const promptText = prompt.join('\n').trim();
  const loras = loraTokens(promptText, warnings);
  const hashes = loraHashes(p.get('Lora hashes') ?? p.get('LoRA hashes'));
  for (const lora of loras) lora.hash = hashes.get(lora.name) ?? null;
  const named = new Set(loras.map((l) => l.name));
  for (const [name, hash] of hashes) {
    if (!named.has(name)) loras.push({ name, weight: 1, hash, fileName: null });
  }
  return {
    origin: 'a1111',
    prompt: promptText,
    negativePrompt: negative.join('\n').trim() || null,
    parameters,
    loras: capped(loras, warnings),
    warnings,
  };
}

// ---------------------------------------------------------------- ComfyUI

type ComfyNode = { class_type?: unknown; inputs?: Record<string, unknown> };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string | null): unknown {
  if (!text) return null;
  try {
    // ComfyUI writes NaN for unset floats; JSON.parse does not take it.
    return JSON.parse(text.replace(/\bNaN\b/g, 'null'));
  } catch {
    return null;
  }
}

function comfyLora(fileName: unknown, strength: unknown): ParsedLora | null {
  const file = str(fileName);
  if (!file || file === 'None') return null;
  const name = loraStemOf(file);
  if (!name || name.length > MAX_LORA_NAME) return null;
  return { name, weight: num(strength) ?? 1, hash: null, fileName: file };
}

/** The LoRAs, prompts and sampler settings of a ComfyUI graph: the API-format `prompt`, else the UI `workflow`. */
export function parseComfy(promptJson: string | null, workflowJson: string | null): ParsedRecipe | null {
  const graph = parseJson(promptJson);
  if (isObject(graph)) return parseComfyApi(graph);
  const workflow = parseJson(workflowJson);
  if (isObject(workflow) && Array.isArray(workflow.nodes)) return parseComfyWorkflow(workflow.nodes);
  return null;
}

function parseComfyApi(graph: Record<string, unknown>): ParsedRecipe {
  const warnings: ParseWarning[] = [];
  const nodes = new Map<string, ComfyNode>();
  for (const [id, node] of Object.entries(graph)) if (isObject(node)) nodes.set(id, node);
  const loras: ParsedLora[] = [];
  const parameters: RecipeParameters = {};
  let positive: string | undefined;
  let negative: string | undefined;
  /** Follows a link `[nodeId, slot]` to a text encoder and returns its text. */
  const textAt = (link: unknown, depth = 0): string | undefined => {
    if (!Array.isArray(link) || depth > 8) return undefined;
    const node = nodes.get(String(link[0]));
    const inputs = node?.inputs ?? {};
    if (typeof inputs.text === 'string') return inputs.text;
    if (typeof inputs.text_g === 'string') return inputs.text_g;
    if (Array.isArray(inputs.text)) return textAt(inputs.text, depth + 1);
    for (const key of ['conditioning', 'conditioning_1', 'positive']) {
      if (Array.isArray(inputs[key])) return textAt(inputs[key], depth + 1);
    }
    return undefined;
  };
  for (const node of nodes.values()) {
    const type = typeof node.class_type === 'string' ? node.class_type : '';
    const inputs = node.inputs ?? {};
    if (type === 'LoraLoader' || type === 'LoraLoaderModelOnly') {
      const lora = comfyLora(inputs.lora_name, inputs.strength_model);
      if (lora) loras.push(lora);
    } else if (/Power Lora Loader/i.test(type)) {
      for (const value of Object.values(inputs)) {
        if (isObject(value) && value.on !== false) {
          const lora = comfyLora(value.lora, value.strength);
          if (lora) loras.push(lora);
        }
      }
    } else if (/^KSampler/.test(type)) {
      positive ??= textAt(inputs.positive);
      negative ??= textAt(inputs.negative);
      setComfySampler(parameters, inputs);
    } else if (/^CheckpointLoader/.test(type)) {
      parameters.model ??= str(inputs.ckpt_name);
    } else if (/EmptyLatentImage|EmptySD3LatentImage/.test(type)) {
      parameters.width ??= num(inputs.width);
      parameters.height ??= num(inputs.height);
    }
  }
  if (positive === undefined) {
    const texts = [...nodes.values()].filter(
      (n) => n.class_type === 'CLIPTextEncode' && typeof n.inputs?.text === 'string',
    );
    positive = texts[0]?.inputs?.text as string | undefined;
    if (texts.length > 1) negative ??= texts[1].inputs?.text as string | undefined;
  }
  return {
    origin: 'comfyui',
    prompt: (positive ?? '').trim(),
    negativePrompt: negative?.trim() || null,
    parameters,
    loras: capped(dedupe(loras), warnings),
    warnings,
  };
}

function setComfySampler(parameters: RecipeParameters, inputs: Record<string, unknown>): void {
  parameters.seed ??= num(inputs.seed ?? inputs.noise_seed);
  parameters.steps ??= num(inputs.steps);
  parameters.cfg_scale ??= num(inputs.cfg);
  parameters.sampler_name ??= str(inputs.sampler_name);
  parameters.scheduler ??= str(inputs.scheduler);
  parameters.denoising_strength ??= num(inputs.denoise);
}

function parseComfyWorkflow(nodes: unknown[]): ParsedRecipe {
  const warnings: ParseWarning[] = [];
  const loras: ParsedLora[] = [];
  const parameters: RecipeParameters = {};
  const texts: string[] = [];
  for (const node of nodes) {
    if (!isObject(node) || !Array.isArray(node.widgets_values)) continue;
    const type = typeof node.type === 'string' ? node.type : '';
    const w = node.widgets_values as unknown[];
    if ((type === 'LoraLoader' || type === 'LoraLoaderModelOnly') && node.mode !== 4) {
      const lora = comfyLora(w[0], w[1]);
      if (lora) loras.push(lora);
    } else if (type === 'CLIPTextEncode' && typeof w[0] === 'string') {
      texts.push(w[0]);
    } else if (/^CheckpointLoader/.test(type)) {
      parameters.model ??= str(w[0]);
    } else if (type === 'KSampler') {
      setComfySampler(parameters, {
        seed: w[0],
        steps: w[2],
        cfg: w[3],
        sampler_name: w[4],
        scheduler: w[5],
        denoise: w[6],
      });
    } else if (type === 'EmptyLatentImage') {
      parameters.width ??= num(w[0]);
      parameters.height ??= num(w[1]);
    }
  }
  if (texts.length > 0) {
    warnings.push({
      code: 'prompt_guessed',
      message:
        'the image has only a UI workflow: the first text encoder is taken as the prompt, the second as the negative',
    });
  }
  return {
    origin: 'comfyui',
    prompt: (texts[0] ?? '').trim(),
    negativePrompt: texts[1]?.trim() || null,
    parameters,
    loras: capped(dedupe(loras), warnings),
    warnings,
  };
}

function dedupe(loras: ParsedLora[]): ParsedLora[] {
  const seen = new Map<string, ParsedLora>();
  for (const l of loras) if (!seen.has(l.name)) seen.set(l.name, l);
  return [...seen.values()];
}
