// Which kind of adapter network a file holds, from its tensor names (LORA-FORMATS §1.2, after
// InvokeAI's `invokeai/backend/patches/layers/utils.py` and LyCORIS) and from kohya's
// `ss_network_module` / `ss_network_args` (§2.1).

import { isRecord } from './json-values.js';

export enum LoraKind {
  LoRA = 'lora',
  LoCon = 'locon',
  LoHa = 'loha',
  LoKr = 'lokr',
  DoRA = 'dora',
  IA3 = 'ia3',
  OFT = 'oft',
  GLoRA = 'glora',
  DyLoRA = 'dylora',
  Full = 'full',
  Norm = 'norm',
  Unknown = 'unknown',
}

export enum LoraKindSource {
  Tensors = 'tensors',
  NetworkModule = 'network_module',
  NetworkArgs = 'network_args',
  None = 'none',
}

/** Civitai `model.type` spelling for each kind. Civitai files LyCORIS algorithms under `LoCon`. */
export const CIVITAI_TYPE_BY_KIND: Readonly<Record<LoraKind, string | undefined>> = {
  [LoraKind.LoRA]: 'LORA',
  [LoraKind.DyLoRA]: 'LORA',
  [LoraKind.DoRA]: 'DoRA',
  [LoraKind.LoCon]: 'LoCon',
  [LoraKind.LoHa]: 'LoCon',
  [LoraKind.LoKr]: 'LoCon',
  [LoraKind.IA3]: 'LoCon',
  [LoraKind.OFT]: 'LoCon',
  [LoraKind.GLoRA]: 'LoCon',
  [LoraKind.Full]: 'LoCon',
  [LoraKind.Norm]: 'LoCon',
  [LoraKind.Unknown]: undefined,
};

export interface TensorShapeInfo {
  name: string;
  shape: readonly number[];
}

export interface LoraKindInfo {
  kind: LoraKind;
  source: LoraKindSource;
  /** What the tensor names alone say (Unknown when no adapter tensors were recognised). */
  fromTensors: LoraKind;
  networkModule?: string;
  /** `ss_network_args` parsed, when it is a JSON object. */
  networkArgs?: Record<string, unknown>;
  /** LyCORIS `algo` from the network args. */
  algo?: string;
}

// Ordered: the first kind found wins when a file mixes layer types (e.g. LoKr files that also
// train norms, DoRA files whose layers are LoRA plus a `dora_scale`).
const TENSOR_RULES: ReadonlyArray<[LoraKind, RegExp]> = [
  [LoraKind.DoRA, /(^|[._])dora_scale$/],
  [LoraKind.LoKr, /(^|[._])lokr_w1(_a)?$/],
  [LoraKind.LoHa, /(^|[._])hada_w1_a$/],
  [LoraKind.IA3, /(^|[._])on_input$/],
  [LoraKind.OFT, /(^|[._])oft_(blocks|diag)$/],
  [LoraKind.GLoRA, /(^|[._])a1\.weight$/],
  [LoraKind.LoRA, /(^|[._])(lora_up|lora_down|lora_A|lora_B|lora\.up|lora\.down)\.weight$/],
  [LoraKind.Full, /(^|[._])diff(_b)?$/],
  [LoraKind.Norm, /(^|[._])w_norm$/],
];

const LORA_DOWN = /(lora_down|lora_A|lora\.down)\.weight$/;

/** Kind from tensor names (and shapes: a LoRA with k×k convolutions, k > 1, is a LoCon). */
export function detectKindFromTensors(tensors: readonly TensorShapeInfo[]): LoraKind {
  const found = new Set<LoraKind>();
  let hasConvKxK = false;
  for (const t of tensors) {
    for (const [kind, re] of TENSOR_RULES) {
      if (re.test(t.name)) {
        found.add(kind);
        break;
      }
    }
    if (LORA_DOWN.test(t.name) && t.shape.length === 4 && (t.shape[2] > 1 || t.shape[3] > 1)) hasConvKxK = true;
  }
  for (const [kind] of TENSOR_RULES) {
    if (found.has(kind)) return kind === LoraKind.LoRA && hasConvKxK ? LoraKind.LoCon : kind;
  }
  return LoraKind.Unknown;
}

const ALGO_KINDS: Readonly<Record<string, LoraKind>> = {
  lora: LoraKind.LoCon,
  locon: LoraKind.LoCon,
  loha: LoraKind.LoHa,
  lokr: LoraKind.LoKr,
  ia3: LoraKind.IA3,
  dylora: LoraKind.DyLoRA,
  glora: LoraKind.GLoRA,
  full: LoraKind.Full,
  'diag-oft': LoraKind.OFT,
  oft: LoraKind.OFT,
  boft: LoraKind.OFT,
};

function parseNetworkArgs(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined || !raw.trimStart().startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Combine header evidence: `ss_network_module` decides unless it is missing or `lycoris.kohya`
 * (then `algo` from `ss_network_args`, then the tensor names); a `dora_scale` tensor always means DoRA.
 */
export function detectLoraKind(
  tensors: readonly TensorShapeInfo[],
  metadata: Readonly<Record<string, string>>,
): LoraKindInfo {
  const fromTensors = detectKindFromTensors(tensors);
  const networkModule = metadata['ss_network_module']?.trim() || undefined;
  const networkArgs = parseNetworkArgs(metadata['ss_network_args']);
  const algoRaw = networkArgs?.['algo'];
  const algo = typeof algoRaw === 'string' ? algoRaw.trim().toLowerCase() : undefined;
  const base = { fromTensors, networkModule, networkArgs, algo };

  if (fromTensors === LoraKind.DoRA) return { ...base, kind: LoraKind.DoRA, source: LoraKindSource.Tensors };
  if (networkArgs?.['dora_wd'] === true || networkArgs?.['dora_wd'] === 'True' || networkArgs?.['dora_wd'] === 'true') {
    return { ...base, kind: LoraKind.DoRA, source: LoraKindSource.NetworkArgs };
  }

  const module = networkModule?.toLowerCase();
  if (module !== undefined && !module.startsWith('lycoris')) {
    let kind: LoraKind | undefined;
    if (module.includes('dylora')) kind = LoraKind.DyLoRA;
    else if (module.includes('oft')) kind = LoraKind.OFT;
    else if (module.includes('lora')) {
      // kohya's networks.lora trains 3×3 convolutions (LoCon) when conv_dim is set.
      const convDim = networkArgs?.['conv_dim'];
      kind =
        convDim !== undefined && convDim !== null && convDim !== '' && convDim !== 'None'
          ? LoraKind.LoCon
          : LoraKind.LoRA;
      if (kind === LoraKind.LoRA && fromTensors === LoraKind.LoCon) kind = LoraKind.LoCon;
    }
    if (kind !== undefined) return { ...base, kind, source: LoraKindSource.NetworkModule };
  }
  if (algo !== undefined && ALGO_KINDS[algo] !== undefined) {
    return { ...base, kind: ALGO_KINDS[algo], source: LoraKindSource.NetworkArgs };
  }
  if (fromTensors !== LoraKind.Unknown) return { ...base, kind: fromTensors, source: LoraKindSource.Tensors };
  return { ...base, kind: LoraKind.Unknown, source: LoraKindSource.None };
}
