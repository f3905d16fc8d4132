// `<stem>.metadata.json` (LORA-FORMATS §4.4): ComfyUI-Lora-Manager's record, with the Civitai
// version JSON (plus `model` and `creator` from the model API) under `civitai`.

import { normaliseCivitaiBaseModel } from './base-model.js';
import { applyCivitaiVersion } from './civitai.js';
import {
  SidecarError,
  SidecarErrorReason,
  SidecarKind,
  civitaiRef,
  emptyFacts,
  fileEntry,
  hashSet,
  type SidecarContext,
  type SidecarFacts,
} from './facts.js';
import {
  asBoolean,
  asNumber,
  asString,
  asStringArray,
  isRecord,
  normaliseHex,
  pickUnmapped,
  type JsonRecord,
} from './json-values.js';
import { toNsfwLevel } from './nsfw.js';

const IDENTIFYING = ['file_name', 'model_name', 'sha256', 'civitai', 'base_model', 'file_path'];

const CONSUMED = new Set([
  'model_name',
  'sha256',
  'autov3',
  'base_model',
  'civitai',
  'tags',
  'modelDescription',
  'notes',
  'favorite',
  'civitai_deleted',
  'usage_tips',
  'preview_nsfw_level',
]);

export function readLoraManagerMetadata(json: unknown, ctx: SidecarContext): SidecarFacts {
  if (!isRecord(json)) {
    throw new SidecarError(
      SidecarErrorReason.NotAnObject,
      'A .metadata.json file holds a JSON object',
      SidecarKind.LoraManagerMetadata,
    );
  }
  if (!IDENTIFYING.some((k) => k in json)) {
    throw new SidecarError(
      SidecarErrorReason.UnrecognisedShape,
      'Not a LoRA-Manager metadata object',
      SidecarKind.LoraManagerMetadata,
    );
  }
  const facts = emptyFacts(SidecarKind.LoraManagerMetadata);
  const unmapped: JsonRecord = pickUnmapped(json, CONSUMED);

  // Own fields first: they are LoRA-Manager's (user-editable) values and win over its Civitai copy.
  const name = asString(json['model_name']);
  if (name !== undefined) facts.name = name;
  const description = asString(json['modelDescription']);
  if (description !== undefined) facts.description = description;
  const notes = asString(json['notes']);
  if (notes !== undefined) facts.notes = notes;
  const tags = asStringArray(json['tags']);
  if (tags && tags.length > 0) facts.tags = tags;
  const favorite = asBoolean(json['favorite']);
  if (favorite !== undefined) facts.favorite = favorite;
  const previewLevel = toNsfwLevel(json['preview_nsfw_level']);
  if (previewLevel !== undefined) facts.previewNsfwLevel = previewLevel;
  const deleted = asBoolean(json['civitai_deleted']);

  if (isRecord(json['civitai']) && Object.keys(json['civitai']).length > 0) {
    const civitai = json['civitai'];
    const { unmapped: rest } = applyCivitaiVersion(civitai, facts, ctx, { trustPrimary: true });
    if (Object.keys(rest).length > 0) unmapped['civitai'] = rest;
  }
  if (deleted !== undefined) {
    facts.civitai = civitaiRef(facts.civitai);
    facts.civitai.deleted = deleted;
  }

  const baseModel = asString(json['base_model']);
  if (baseModel !== undefined && baseModel.toLowerCase() !== 'unknown') {
    facts.baseModelRaw = baseModel;
    facts.baseModel = normaliseCivitaiBaseModel(baseModel).value;
  }

  // Its own hashes describe the local file as LoRA-Manager saw it; never trust them without a check
  // (LoRA-Manager #221), which `mergeFacts` does against the computed hashes.
  const sha256 = normaliseHex(json['sha256'], [64]);
  const autoV3 = normaliseHex(json['autov3'], [12, 64]);
  if (sha256 !== undefined || autoV3 !== undefined) {
    facts.primaryFile ??= fileEntry(hashSet());
    if (sha256 !== undefined) {
      if (facts.primaryFile.hashes.sha256 !== undefined && facts.primaryFile.hashes.sha256 !== sha256) {
        facts.warnings.push('sha256 differs from the SHA256 of the Civitai file entry; kept the top-level value');
      }
      facts.primaryFile.hashes = hashSet({ ...facts.primaryFile.hashes, sha256, autoV2: sha256.slice(0, 10) });
    }
    if (autoV3 !== undefined)
      facts.primaryFile.hashes = hashSet({ ...facts.primaryFile.hashes, autoV3: autoV3.slice(0, 12) });
  } else if (json['sha256'] !== undefined && json['sha256'] !== '' && json['sha256'] !== null) {
    facts.warnings.push('sha256 is not 64 hex characters; ignored');
  }

  const tips = parseUsageTips(json['usage_tips']);
  if (tips) {
    const strength = asNumber(tips['strength']);
    if (strength !== undefined) facts.preferredWeight = strength;
    const min = asNumber(tips['strength_min']);
    if (min !== undefined) facts.weightMin = min;
    const max = asNumber(tips['strength_max']);
    if (max !== undefined) facts.weightMax = max;
    const rest = pickUnmapped(tips, new Set(['strength', 'strength_min', 'strength_max']));
    if (Object.keys(rest).length > 0) unmapped['usage_tips'] = rest;
  } else if (json['usage_tips'] !== undefined && json['usage_tips'] !== '' && json['usage_tips'] !== '{}') {
    unmapped['usage_tips'] = json['usage_tips'];
  }
  facts.unmapped = unmapped;
  return facts;
}

/** `usage_tips` is a JSON string (sometimes already an object). */
function parseUsageTips(raw: unknown): JsonRecord | undefined {
  if (isRecord(raw)) return raw;
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
