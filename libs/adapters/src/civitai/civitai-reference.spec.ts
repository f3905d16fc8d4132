import { describe, expect, it } from '@jest/globals';
import { parseCivitaiReference } from './civitai-reference.js';

describe('parseCivitaiReference', () => {
  it.each([
    ['456', { modelId: null, versionId: 456 }],
    ['https://civitai.com/models/123/some-name?modelVersionId=456', { modelId: 123, versionId: 456 }],
    ['https://civitai.com/models/123', { modelId: 123, versionId: null }],
    ['civitai.com/models/123/x', { modelId: 123, versionId: null }],
    ['https://civitai.com/api/download/models/456?type=Model&format=SafeTensor', { modelId: null, versionId: 456 }],
    ['https://civitai.com/api/v1/model-versions/456', { modelId: null, versionId: 456 }],
    ['https://civitai.com/api/v1/models/123', { modelId: 123, versionId: null }],
    ['urn:air:sdxl:lora:civitai:123@456', { modelId: 123, versionId: 456 }],
    ['urn:air:sd1:lora:civitai:123', { modelId: 123, versionId: null }],
  ])('should read %s', (input, expected) => {
    expect(parseCivitaiReference(input)).toEqual(expected);
  });

  it.each(['', 'abc', '0', '-5', 'https://civitai.com/images/99', 'https://civitai.com/models/abc', 'urn:air:x'])(
    'should refuse %p with the field named',
    (input) => {
      expect(() => parseCivitaiReference(input, 'url')).toThrow(/url|Civitai/);
    },
  );
});
