import type { ComposableAdapter } from './composable-adapter.js';
import { NoActiveAdaptersError, UnknownAdapterError } from './composition-error.js';
import { Dialect, parseDialect } from './dialect.js';
import { resolveTokenNames, serverListName, type ResolvedName } from './name-resolution.js';
import { joinPromptParts } from './prompt-text.js';
import { buildToken } from './token.js';
import { TriggerWordPolicy, parseTriggerWordPolicy, selectTriggerWords } from './trigger-words.js';
import { checkWeight, defaultWeight, formatWeight, parseWeightCap, scaleWeight, weightCapFactor } from './weights.js';

/** Sent to clients with every composition, hence a string enum. */
export enum CompositionWarningCode {
  MixedBaseModels = 'mixed_base_models',
  BaseModelMismatch = 'base_model_mismatch',
  MissingFile = 'missing_file',
  NsfwAdapter = 'nsfw_adapter',
  DuplicateAdapter = 'duplicate_adapter',
  WeightCapExceeded = 'weight_cap_exceeded',
  /** Ambiguous name, name that cannot be written in a token, or a name the server does not list. */
  UnresolvedName = 'unresolved_name',
  /** No `adapters` given and more adapters are active than a composition takes: the rest were left out. */
  ActiveSetTruncated = 'active_set_truncated',
}

export interface CompositionWarning {
  code: CompositionWarningCode;
  message: string;
  adapterId?: string;
}

export interface AdapterSelection {
  id: string;
  /** Defaults to the adapter's preferred weight, else 1. */
  weight?: number | null;
  te?: number | null;
  unet?: number | null;
}

export interface CompositionInput {
  adapters?: readonly AdapterSelection[] | null;
  /** Used when `adapters` is empty: the active adapters in their order (the seed system's behaviour). */
  activeInOrder?: readonly ComposableAdapter[] | null;
  prefix?: string | null;
  suffix?: string | null;
  negative?: string | null;
  /** Defaults to SD.Next. */
  dialect?: Dialect | string | null;
  /** Defaults to `chosen`. */
  triggerWords?: TriggerWordPolicy | string | null;
  /** Upper bound for the sum of absolute weights; above it every weight is scaled down proportionally. */
  weightCap?: number | null;
  checkpointBaseModel?: string | null;
  /** `name`s from `GET /sdapi/v1/loras` when known; adapters missing from it get a warning. */
  backendLoraNames?: readonly string[] | null;
}

export interface ComposedAdapter {
  id: string;
  /** The name written in the token. */
  name: string;
  /** The adapter's display name. */
  displayName: string;
  /** Null when no token could be written (see the `unresolved_name` warning). */
  token: string | null;
  /** As sent: rounded to 3 decimals, after any cap scaling. */
  weight: number;
  te: number;
  unet: number;
}

/** An adapter a composed prompt uses, as jobs and deliveries record it (co-usage, history). */
export interface UsedAdapter {
  id: string;
  /** The name written in the token. */
  name: string;
  /** As sent. */
  weight: number;
}

/** The adapters a composition put in its prompt, as a job or a delivery records them. */
export function usedAdaptersOf(result: Pick<CompositionResult, 'adapters'>): UsedAdapter[] {
  return result.adapters.map((a) => ({ id: a.id, name: a.name, weight: a.weight }));
}

export interface CompositionResult {
  dialect: Dialect;
  prompt: string;
  negativePrompt: string;
  tokens: string[];
  triggerWords: string[];
  adapters: ComposedAdapter[];
  warnings: CompositionWarning[];
}

/** Civitai nsfwLevel bits 4 (R) and up; as the levels are bits, any value ≥ 4 has one of them set. */
export const NSFW_LEVEL_THRESHOLD = 4;

interface Selected {
  adapter: ComposableAdapter;
  weight: number;
  te: number | null;
  unet: number | null;
}

/**
 * Composes a prompt with LoRA tokens the target server resolves to the right files.
 *
 * Layout: `prefix, trigger words…, suffix <lora:a:W> <lora:b:W>`. Text parts are joined with `, `, tokens with
 * spaces after the text. Both servers strip tags before encoding, so the tokens' place changes nothing in the
 * image; keeping them last leaves the user's text first and readable.
 *
 * `library` must hold the requested adapters and every adapter that may share a file name with them, so that
 * name collisions are seen (see `resolveTokenNames`).
 */
export function composePrompt(input: CompositionInput, library: readonly ComposableAdapter[]): CompositionResult {
  const dialect = parseDialect(input.dialect);
  const policy = parseTriggerWordPolicy(input.triggerWords);
  const cap = parseWeightCap(input.weightCap);
  const warnings: CompositionWarning[] = [];

  const scope = [...library];
  const known = new Map(library.map((a) => [a.id, a]));
  for (const adapter of input.activeInOrder ?? []) {
    if (!known.has(adapter.id)) {
      known.set(adapter.id, adapter);
      scope.push(adapter);
    }
  }
  const picks = selectAdapters(input, known, warnings);
  const names = resolveTokenNames(
    scope,
    dialect,
    picks.map((p) => p.adapter.id),
  );

  const emitted: Selected[] = [];
  const nameOf = new Map<string, ResolvedName>();
  for (const pick of picks) {
    const resolved = names.get(pick.adapter.id) as ResolvedName;
    nameOf.set(pick.adapter.id, resolved);
    warnings.push(...adapterWarnings(pick.adapter, resolved, dialect, input));
    if (resolved.usable) emitted.push(pick);
  }
  warnings.push(...baseModelWarnings(picks, input.checkpointBaseModel));

  const { total, factor, scaled } = weightCapFactor(
    emitted.map((p) => p.weight),
    cap,
  );
  if (scaled) {
    warnings.push({
      code: CompositionWarningCode.WeightCapExceeded,
      message: `the weights add up to ${formatWeight(total)}, above the cap ${formatWeight(cap ?? 0)}; all were scaled by ${formatWeight(factor)}`,
    });
  }

  const adapters: ComposedAdapter[] = [];
  const tokens: string[] = [];
  for (const pick of picks) {
    const resolved = nameOf.get(pick.adapter.id) as ResolvedName;
    const weight = scaleWeight(pick.weight, factor);
    const te = pick.te === null ? null : scaleWeight(pick.te, factor);
    const unet = pick.unet === null ? null : scaleWeight(pick.unet, factor);
    const token = resolved.usable ? buildToken(dialect, { name: resolved.name, weight, te, unet }) : null;
    if (token !== null) tokens.push(token);
    adapters.push({
      id: pick.adapter.id,
      name: resolved.name,
      displayName: pick.adapter.name,
      token,
      weight,
      te: te ?? weight,
      unet: unet ?? weight,
    });
  }

  // Trigger words of an adapter without a token would steer the image toward a LoRA that is not loaded.
  const triggerWords = selectTriggerWords(
    emitted.map((p) => p.adapter),
    policy,
    [input.prefix ?? '', input.suffix ?? ''],
  );
  const text = joinPromptParts([input.prefix, triggerWords.join(', '), input.suffix]);
  const prompt = [text, tokens.join(' ')].filter((part) => part.length > 0).join(' ');

  return {
    dialect,
    prompt,
    negativePrompt: joinPromptParts([input.negative]),
    tokens,
    triggerWords,
    adapters,
    warnings,
  };
}

function selectAdapters(
  input: CompositionInput,
  known: ReadonlyMap<string, ComposableAdapter>,
  warnings: CompositionWarning[],
): Selected[] {
  const picks: Selected[] = [];
  const seen = new Set<string>();
  const keepFirst = (pick: Selected, where: string) => {
    if (seen.has(pick.adapter.id)) {
      warnings.push({
        code: CompositionWarningCode.DuplicateAdapter,
        message: `${where}: adapter ${JSON.stringify(pick.adapter.name)} is listed more than once; only the first is used`,
        adapterId: pick.adapter.id,
      });
      return;
    }
    seen.add(pick.adapter.id);
    picks.push(pick);
  };

  if (input.adapters && input.adapters.length > 0) {
    input.adapters.forEach((selection, i) => {
      const field = `adapters[${i}]`;
      const adapter = known.get(selection.id);
      if (!adapter) throw new UnknownAdapterError(String(selection.id), `${field}.id`);
      const given = (value: number | null | undefined, name: string) =>
        value === undefined || value === null ? null : checkWeight(adapter, value, `${field}.${name}`);
      keepFirst(
        {
          adapter,
          weight: given(selection.weight, 'weight') ?? defaultWeight(adapter),
          te: given(selection.te, 'te'),
          unet: given(selection.unet, 'unet'),
        },
        field,
      );
    });
  } else if (input.activeInOrder && input.activeInOrder.length > 0) {
    input.activeInOrder.forEach((adapter, i) =>
      keepFirst({ adapter, weight: defaultWeight(adapter), te: null, unet: null }, `activeInOrder[${i}]`),
    );
  } else {
    throw new NoActiveAdaptersError('adapters');
  }
  return picks;
}

function adapterWarnings(
  adapter: ComposableAdapter,
  resolved: ResolvedName,
  dialect: Dialect,
  input: CompositionInput,
): CompositionWarning[] {
  const warnings: CompositionWarning[] = [];
  const add = (code: CompositionWarningCode, message: string) =>
    warnings.push({ code, message: `${JSON.stringify(adapter.name)}: ${message}`, adapterId: adapter.id });

  if (!resolved.usable) {
    add(CompositionWarningCode.UnresolvedName, `no token written: ${resolved.warnings.join('; ')}`);
  } else if (resolved.ambiguous) {
    add(CompositionWarningCode.UnresolvedName, `ambiguous name: ${resolved.warnings.join('; ')}`);
  }
  if (resolved.usable && input.backendLoraNames) {
    const listed = serverListName(dialect, adapter);
    if (!input.backendLoraNames.includes(listed)) {
      add(
        CompositionWarningCode.UnresolvedName,
        `the server does not list ${JSON.stringify(listed)}; it will skip the token`,
      );
    }
  }
  if (adapter.missingSince !== undefined && adapter.missingSince !== null) {
    add(
      CompositionWarningCode.MissingFile,
      `the file ${JSON.stringify(adapter.relativePath)} is missing from the library`,
    );
  }
  if (typeof adapter.nsfwLevel === 'number' && adapter.nsfwLevel >= NSFW_LEVEL_THRESHOLD) {
    add(CompositionWarningCode.NsfwAdapter, `rated R or above (nsfwLevel ${adapter.nsfwLevel})`);
  }
  return warnings;
}

function baseModelWarnings(
  picks: readonly Selected[],
  checkpointBaseModel: string | null | undefined,
): CompositionWarning[] {
  const warnings: CompositionWarning[] = [];
  const distinct = new Map<string, string>();
  for (const { adapter } of picks) {
    const key = baseModelKey(adapter.baseModel);
    if (key && !distinct.has(key)) distinct.set(key, (adapter.baseModel as string).trim());
  }
  if (distinct.size > 1) {
    warnings.push({
      code: CompositionWarningCode.MixedBaseModels,
      message: `the adapters were trained on different base models: ${[...distinct.values()].join(', ')}`,
    });
  }
  const checkpoint = baseModelKey(checkpointBaseModel);
  if (checkpoint) {
    for (const { adapter } of picks) {
      const key = baseModelKey(adapter.baseModel);
      if (key && key !== checkpoint) {
        warnings.push({
          code: CompositionWarningCode.BaseModelMismatch,
          message: `${JSON.stringify(adapter.name)} was trained on ${(adapter.baseModel as string).trim()}, the checkpoint is ${(checkpointBaseModel as string).trim()}`,
          adapterId: adapter.id,
        });
      }
    }
  }
  return warnings;
}

/** Base models compare ignoring case and spacing (`SDXL 1.0` = `sdxl  1.0`); unknown ones are not compared. */
function baseModelKey(baseModel: string | null | undefined): string | null {
  const key = (baseModel ?? '').trim().replace(/\s+/gu, ' ').toLowerCase();
  return key.length > 0 ? key : null;
}
