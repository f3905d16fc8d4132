// `<stem>.json`, A1111 flavour (LORA-FORMATS §4.2): the flat user-metadata object of A1111's
// extra-networks editor, also written by the Civitai Helper fork and sd-civitai-browser-plus.

import { normaliseBaseModel, BaseModelSource } from './base-model.js';
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
  asId,
  asNumber,
  asString,
  isRecord,
  normaliseHex,
  pickUnmapped,
  splitList,
  uniqueStrings,
} from './json-values.js';

export const A1111_KEYS = [
  'description',
  'sd version',
  'activation text',
  'preferred weight',
  'negative text',
  'notes',
  'sha256',
  'modelId',
  'modelVersionId',
] as const;

const CONSUMED = new Set<string>(A1111_KEYS);

/** True when the object looks like A1111 user metadata (space-separated keys, no `modelVersions`). */
export function looksLikeA1111Json(json: Record<string, unknown>): boolean {
  if ('modelVersions' in json) return false;
  return A1111_KEYS.some((k) => k in json) || Object.keys(json).length === 0;
}

/** Split activation text into trigger words: `,` separates words, ` || ` alternative prompts (spaces are trimmed). */
export function splitActivationText(text: string): string[] {
  return uniqueStrings(splitList(text, /\|\||,/));
}

/**
 * Removes `<…:…>` tokens (`<lora:x:1>`). The part before the colon cannot hold one, so a long run without `>`
 * is scanned once, not once per colon.
 */
export function stripNetworkTokens(text: string): string {
  return text.replace(/<[^<>:]*:[^<>]*>/g, '');
}

export function readA1111Json(json: unknown, _ctx: SidecarContext): SidecarFacts {
  if (!isRecord(json)) {
    throw new SidecarError(
      SidecarErrorReason.NotAnObject,
      'An A1111 .json sidecar holds a JSON object',
      SidecarKind.A1111Json,
    );
  }
  if (!looksLikeA1111Json(json)) {
    throw new SidecarError(SidecarErrorReason.UnrecognisedShape, 'Not A1111 user metadata', SidecarKind.A1111Json);
  }
  const facts = emptyFacts(SidecarKind.A1111Json);
  facts.description = asString(json['description']);
  facts.notes = asString(json['notes']);
  facts.negativeText = asString(json['negative text']);
  const activation = asString(json['activation text']);
  if (activation !== undefined) {
    // sd-civitai-browser-plus strips `<…:…>` tokens; do the same for files written by other tools.
    facts.activationText = activation;
    facts.trainedWords = splitActivationText(stripNetworkTokens(activation));
  }
  // 0 means "use the default multiplier" in A1111: not a preference.
  const weight = asNumber(json['preferred weight']);
  if (weight !== undefined && weight !== 0) facts.preferredWeight = weight;

  const sdVersion = asString(json['sd version']);
  if (sdVersion !== undefined) {
    facts.baseModelRaw = sdVersion;
    const bm = normaliseBaseModel({ sdVersion });
    if (bm.source === BaseModelSource.SdVersionHint) facts.baseModel = bm.value;
  }
  const modelId = asId(json['modelId']);
  const versionId = asId(json['modelVersionId']);
  if (modelId !== undefined || versionId !== undefined) {
    facts.civitai = civitaiRef({ modelId, versionId });
  }
  const sha256 = normaliseHex(json['sha256'], [64]);
  if (sha256 !== undefined) facts.primaryFile = fileEntry(hashSet({ sha256, autoV2: sha256.slice(0, 10) }));
  else if (json['sha256'] !== undefined && json['sha256'] !== '')
    facts.warnings.push('sha256 is not 64 hex characters; ignored');

  facts.unmapped = pickUnmapped(json, CONSUMED);
  // The negative text has no column of its own: kept with the unmapped fields, it reaches the API's adapter.
  if (facts.negativeText?.trim()) facts.unmapped['negative text'] = facts.negativeText;
  return facts;
}
