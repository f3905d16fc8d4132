// `<stem>.swarm.json` (LORA-FORMATS §4.6): SwarmUI's metadata with every key `modelspec.`-prefixed.

import { baseModelFromHeader } from './base-model.js';
import {
  SidecarError,
  SidecarErrorReason,
  SidecarKind,
  emptyFacts,
  fileEntry,
  hashSet,
  licenseFlags,
  type SidecarContext,
  type SidecarFacts,
} from './facts.js';
import { autoV3 } from './hasher.js';
import {
  asIsoDate,
  asNumber,
  asString,
  asStringArray,
  isRecord,
  normaliseHex,
  pickUnmapped,
  splitList,
} from './json-values.js';

const P = 'modelspec.';

const CONSUMED = new Set(
  [
    'title',
    'author',
    'description',
    'trigger_phrase',
    'usage_hint',
    'tags',
    'lora_default_weight',
    'architecture',
    'compat_class',
    'hash_sha256',
    'date',
    'license',
    'preview_image',
    'thumbnail',
  ].map((k) => P + k),
);

export function readSwarmJson(json: unknown, _ctx: SidecarContext): SidecarFacts {
  if (!isRecord(json)) {
    throw new SidecarError(
      SidecarErrorReason.NotAnObject,
      'A .swarm.json file holds a JSON object',
      SidecarKind.SwarmJson,
    );
  }
  if (!Object.keys(json).some((k) => k.startsWith(P))) {
    throw new SidecarError(SidecarErrorReason.UnrecognisedShape, 'No modelspec.* keys', SidecarKind.SwarmJson);
  }
  const get = (k: string): unknown => json[P + k];
  const facts = emptyFacts(SidecarKind.SwarmJson);
  facts.name = asString(get('title'));
  facts.creator = asString(get('author'));
  facts.description = asString(get('description'));
  facts.notes = asString(get('usage_hint'));
  const trigger = asString(get('trigger_phrase'));
  if (trigger !== undefined) {
    facts.activationText = trigger;
    facts.trainedWords = splitList(trigger);
  }
  const tags = get('tags');
  facts.tags = (typeof tags === 'string' ? splitList(tags) : asStringArray(tags)) ?? [];
  const weight = asNumber(get('lora_default_weight'));
  if (weight !== undefined) facts.preferredWeight = weight;
  const license = asString(get('license'));
  if (license !== undefined) facts.license = licenseFlags({ license });
  facts.publishedAt = asIsoDate(get('date'));

  const bm = baseModelFromHeader({
    'modelspec.architecture': get('architecture'),
    'modelspec.compat_class': get('compat_class'),
  });
  if (bm) {
    facts.baseModel = bm.value;
    facts.baseModelRaw = asString(get('architecture')) ?? asString(get('compat_class'));
  }
  const tensorHash = normaliseHex(get('hash_sha256'), [64]);
  if (tensorHash !== undefined) facts.primaryFile = fileEntry(hashSet({ autoV3: autoV3(tensorHash) }));
  const preview = asString(get('preview_image')) ?? asString(get('thumbnail'));
  if (preview !== undefined && !preview.startsWith('data:')) facts.previewUrl = preview;

  const unmapped = pickUnmapped(json, CONSUMED);
  // An embedded data URL can be megabytes: note it, do not copy it.
  if (preview?.startsWith('data:')) unmapped[P + 'preview_image'] = 'data';
  facts.unmapped = unmapped;
  return facts;
}
