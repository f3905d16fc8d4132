// `<stem>.json`, SD.Next flavour (LORA-FORMATS §4.3): the full Civitai `/models/{id}` answer with
// every version. The version is chosen through the file that matches the local one (§5): hashes
// first, then the file name, then size; never `modelVersions[0]` by default.

import { applyCivitaiModel, applyCivitaiVersion, matchCivitaiFile, parseCivitaiFile, parseStats } from './civitai.js';
import {
  SidecarError,
  SidecarErrorReason,
  SidecarKind,
  civitaiRef,
  emptyFacts,
  sidecarStats,
  type SidecarContext,
  type SidecarFacts,
} from './facts.js';
import { asId, asIsoDate, asString, isRecord, pickUnmapped, type JsonRecord } from './json-values.js';
import { toNsfwLevel } from './nsfw.js';

/** True for a Civitai model object: `modelVersions[]` (and normally `id` + `type`). */
export function looksLikeSdnextJson(json: Record<string, unknown>): boolean {
  return Array.isArray(json['modelVersions']);
}

export function readSdnextJson(json: unknown, ctx: SidecarContext): SidecarFacts {
  if (!isRecord(json)) {
    throw new SidecarError(
      SidecarErrorReason.NotAnObject,
      'An SD.Next .json sidecar holds a JSON object',
      SidecarKind.SdnextJson,
    );
  }
  if (!looksLikeSdnextJson(json)) {
    throw new SidecarError(
      SidecarErrorReason.UnrecognisedShape,
      'Not a Civitai model object (no modelVersions array)',
      SidecarKind.SdnextJson,
    );
  }
  const facts = emptyFacts(SidecarKind.SdnextJson);
  const modelId = asId(json['id']);
  if (modelId !== undefined) facts.civitai = civitaiRef({ modelId });

  const versions = (json['modelVersions'] as unknown[]).filter(isRecord);
  const parsed = versions.map((v) => ({
    files: Array.isArray(v['files']) ? v['files'].filter(isRecord).map(parseCivitaiFile) : [],
  }));
  const match = matchCivitaiFile(parsed, ctx);
  const unmapped: JsonRecord = applyCivitaiModel(json, facts);

  if (match) {
    const version = versions[match.versionIndex];
    // The model object's versions carry no `modelId`; keep the top-level id.
    const rest = applyCivitaiVersion(version, facts, ctx, { trustPrimary: false }).unmapped;
    if (Object.keys(rest).length > 0) unmapped['matchedVersion'] = rest;
  } else {
    facts.warnings.push(
      versions.length === 0
        ? 'Model lists no versions'
        : `No version of model ${modelId ?? '?'} has a file matching the local file: model known, version unknown`,
    );
  }
  // Model-level values win over the version's for the fields that exist at both levels.
  const modelLevel = toNsfwLevel(json['nsfwLevel']);
  if (match === undefined && modelLevel !== undefined) facts.nsfwLevel = modelLevel;
  const stats = parseStats(json['stats']);
  if (stats) facts.stats = sidecarStats(stats, facts.stats);
  const others = versions
    .filter((_, i) => i !== match?.versionIndex)
    .map((v) => ({
      id: asId(v['id']),
      name: asString(v['name']),
      baseModel: asString(v['baseModel']),
      publishedAt: asIsoDate(v['publishedAt']),
    }));
  if (others.length > 0) unmapped['otherVersions'] = others;
  delete unmapped['modelVersions'];
  facts.unmapped = pickUnmapped(unmapped, new Set(['nsfwLevel', 'stats']));
  return facts;
}
