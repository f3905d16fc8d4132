// `<stem>.cm-info.json` (LORA-FORMATS §4.5): StabilityMatrix `ConnectedModelInfo`, PascalCase keys,
// nulls written out. `Source` is an enum number (0 Civitai, 1 OpenModelDb, 2 CivArchive, 3 Other)
// or its name; ids are Civitai ids only when the source is Civitai (or absent, in older files).

import { normaliseCivitaiBaseModel } from './base-model.js';
import { matchCivitaiFile, parseHashes, parseStats } from './civitai.js';
import {
  MatchEvidence,
  MatchStrength,
  SidecarError,
  SidecarErrorReason,
  SidecarKind,
  civitaiRef,
  emptyFacts,
  fileEntry,
  hasAnyHash,
  type SidecarContext,
  type SidecarFacts,
} from './facts.js';
import { asBoolean, asId, asString, asStringArray, isRecord, pickUnmapped } from './json-values.js';

const SOURCES = ['Civitai', 'OpenModelDb', 'CivArchive', 'Other'] as const;

const CONSUMED = new Set([
  'ModelId',
  'ModelName',
  'ModelDescription',
  'Nsfw',
  'Tags',
  'ModelType',
  'VersionId',
  'VersionName',
  'VersionDescription',
  'AuthorUsername',
  'BaseModel',
  'RemoteFileName',
  'RemoteFileId',
  'Hashes',
  'TrainedWords',
  'Stats',
  'UserTitle',
  'ThumbnailImageUrl',
  'Source',
]);

export function cmInfoSource(raw: unknown): string | undefined {
  if (typeof raw === 'number') return SOURCES[raw] ?? `Unknown(${raw})`;
  return asString(raw);
}

export function readCmInfo(json: unknown, ctx: SidecarContext): SidecarFacts {
  if (!isRecord(json)) {
    throw new SidecarError(
      SidecarErrorReason.NotAnObject,
      'A .cm-info.json file holds a JSON object',
      SidecarKind.CmInfo,
    );
  }
  if (!['ModelId', 'ModelName', 'VersionId', 'Hashes'].some((k) => k in json)) {
    throw new SidecarError(
      SidecarErrorReason.UnrecognisedShape,
      'Not a StabilityMatrix ConnectedModelInfo',
      SidecarKind.CmInfo,
    );
  }
  const facts = emptyFacts(SidecarKind.CmInfo);
  facts.name = asString(json['UserTitle']) ?? asString(json['ModelName']);
  facts.versionName = asString(json['VersionName']);
  facts.description = asString(json['ModelDescription']);
  facts.versionDescription = asString(json['VersionDescription']);
  facts.creator = asString(json['AuthorUsername']);
  facts.modelType = asString(json['ModelType']);
  facts.tags = asStringArray(json['Tags']) ?? [];
  facts.trainedWords = asStringArray(json['TrainedWords']) ?? [];
  facts.nsfw = asBoolean(json['Nsfw']);
  facts.stats = parseStats(json['Stats']);
  facts.previewUrl = asString(json['ThumbnailImageUrl']);
  const baseModel = asString(json['BaseModel']);
  if (baseModel !== undefined) {
    facts.baseModelRaw = baseModel;
    facts.baseModel = normaliseCivitaiBaseModel(baseModel).value;
  }

  const source = cmInfoSource(json['Source']);
  const modelId = asId(json['ModelId']);
  const versionId = asId(json['VersionId']);
  if (source === undefined || source.toLowerCase() === 'civitai') {
    if (modelId !== undefined || versionId !== undefined) {
      facts.civitai = civitaiRef({ modelId, versionId });
    }
  } else if (modelId !== undefined || versionId !== undefined) {
    facts.warnings.push(`Source is ${source}: ModelId/VersionId are not Civitai ids`);
  }

  const file = fileEntry(parseHashes(json['Hashes']), {
    name: asString(json['RemoteFileName']),
    id: asId(json['RemoteFileId']),
  });
  if (file.hashes.sha256 !== undefined) file.hashes.autoV2 ??= file.hashes.sha256.slice(0, 10);
  if (hasAnyHash(file.hashes) || file.name !== undefined) {
    const match = matchCivitaiFile([{ files: [file] }], ctx);
    file.match = match
      ? { strength: match.strength, by: match.by }
      : { strength: MatchStrength.None, by: MatchEvidence.Only };
    facts.primaryFile = file;
    if (match?.hashConflict || (!match && file.hashes.sha256 !== undefined && ctx.sha256 !== undefined)) {
      facts.warnings.push('Hashes do not match the local file');
    }
  }

  const unmapped = pickUnmapped(json, CONSUMED);
  if (source !== undefined) unmapped['Source'] = source;
  for (const [k, v] of Object.entries(unmapped)) if (v === null) delete unmapped[k];
  facts.unmapped = unmapped;
  return facts;
}
