// `<stem>.civitai.info` (LORA-FORMATS §4.1): one Civitai model-version JSON written by Civitai Helper.
// `{}` means "looked up, not on Civitai": a negative lookup, not a broken file.

import { applyCivitaiVersion } from './civitai.js';
import {
  SidecarError,
  SidecarErrorReason,
  SidecarKind,
  emptyFacts,
  type SidecarContext,
  type SidecarFacts,
} from './facts.js';
import { isRecord } from './json-values.js';

export function readCivitaiInfo(json: unknown, ctx: SidecarContext): SidecarFacts {
  if (!isRecord(json)) {
    throw new SidecarError(
      SidecarErrorReason.NotAnObject,
      'A .civitai.info file holds a JSON object',
      SidecarKind.CivitaiInfo,
    );
  }
  const facts = emptyFacts(SidecarKind.CivitaiInfo);
  if (Object.keys(json).length === 0) {
    facts.civitaiNotFound = true;
    return facts;
  }
  if (!('id' in json) && !('modelId' in json) && !('files' in json) && !('model' in json)) {
    throw new SidecarError(
      SidecarErrorReason.UnrecognisedShape,
      'Not a Civitai model-version object (no id, modelId, files or model)',
      SidecarKind.CivitaiInfo,
    );
  }
  const { unmapped } = applyCivitaiVersion(json, facts, ctx, { trustPrimary: true });
  facts.unmapped = unmapped;
  return facts;
}
