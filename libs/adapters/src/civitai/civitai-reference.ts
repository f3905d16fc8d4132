import { InvalidInputError } from '@app/core';

/** What a user pointed at on Civitai: a model, one of its versions, or both. */
export interface CivitaiReference {
  modelId: number | null;
  versionId: number | null;
}

const ID = /^[1-9]\d{0,11}$/;

function idOf(text: string | null | undefined): number | null {
  return text != null && ID.test(text) ? Number(text) : null;
}

/**
 * Reads the forms users paste: a bare version id (`12345`), a model page
 * (`https://civitai.com/models/123/name?modelVersionId=456`), a download link (`…/api/download/models/456`),
 * an API link (`…/api/v1/model-versions/456`, `…/api/v1/models/123`) and an AIR
 * (`urn:air:sdxl:lora:civitai:123@456`). Anything else is a 400 on `field`.
 */
export function parseCivitaiReference(input: string, field = 'reference'): CivitaiReference {
  const text = input.trim();
  const bare = idOf(text);
  if (bare !== null) return { modelId: null, versionId: bare };

  const air = /^urn:air:[^:]+:[^:]+:civitai:(\d+)(?:@(\d+))?$/i.exec(text);
  if (air) {
    const reference = { modelId: idOf(air[1]), versionId: idOf(air[2]) };
    if (reference.modelId !== null) return reference;
  }

  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    throw InvalidInputError.field(field, 'must be a Civitai version id, model or version URL, or AIR');
  }
  const parts = url.pathname.split('/').filter((part) => part !== '');
  const after = (name: string): number | null => {
    const at = parts.indexOf(name);
    return at >= 0 ? idOf(parts[at + 1]) : null;
  };
  const queryVersion = idOf(url.searchParams.get('modelVersionId'));
  let reference: CivitaiReference = { modelId: null, versionId: null };
  if (parts[0] === 'api' && parts[1] === 'download' && parts[2] === 'models') {
    reference = { modelId: null, versionId: idOf(parts[3]) };
  } else if (parts[0] === 'api' && parts[1] === 'v1' && parts[2] === 'model-versions') {
    reference = { modelId: null, versionId: idOf(parts[3]) };
  } else if (parts[0] === 'api' && parts[1] === 'v1' && parts[2] === 'models') {
    reference = { modelId: idOf(parts[3]), versionId: queryVersion };
  } else if (parts[0] === 'models') {
    reference = { modelId: after('models'), versionId: queryVersion };
  } else if (parts[0] === 'model-versions') {
    reference = { modelId: null, versionId: after('model-versions') };
  }
  if (reference.modelId === null && reference.versionId === null) {
    throw InvalidInputError.field(field, 'must be a Civitai version id, model or version URL, or AIR');
  }
  return reference;
}
