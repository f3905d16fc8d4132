import { describe, expect, it } from '@jest/globals';
import {
  BASE_MODELS,
  BaseModel,
  BaseModelSource,
  baseModelFromHeader,
  normaliseBaseModel,
  normaliseCivitaiBaseModel,
} from './base-model.js';

describe(normaliseCivitaiBaseModel.name, () => {
  it('should keep every vocabulary value as is, case-insensitively', () => {
    for (const b of BASE_MODELS) {
      expect(normaliseCivitaiBaseModel(b)).toEqual({ value: b, known: true });
      expect(normaliseCivitaiBaseModel(b.toUpperCase())).toEqual({ value: b, known: true });
    }
    expect(BASE_MODELS).toEqual(
      expect.arrayContaining([
        'SD 1.5',
        'SD 2.1',
        'SDXL 1.0',
        'Pony',
        'Illustrious',
        'NoobAI',
        'Flux.1 D',
        'Flux.1 S',
        'SD 3.5',
      ]),
    );
  });

  it.each([
    ['sd_1.5', BaseModel.Sd15],
    ['SD1.5', BaseModel.Sd15],
    ['sd-v1-5', BaseModel.Sd15],
    ['sd-v2-1', BaseModel.Sd21],
    ['SDXL', BaseModel.Sdxl10],
    ['sdxl 1.0', BaseModel.Sdxl10],
    ['Pony Diffusion', BaseModel.Pony],
    ['Illustrious XL', BaseModel.Illustrious],
    ['noobai xl', BaseModel.NoobAI],
    ['flux1', BaseModel.Flux1D],
    ['Flux.1 Dev', BaseModel.Flux1D],
    ['flux.1 schnell', BaseModel.Flux1S],
    ['  SD   3.5  ', BaseModel.Sd35],
    // What users type in a filter.
    ['sdxl', BaseModel.Sdxl10],
    ['SD15', BaseModel.Sd15],
    ['sd1', BaseModel.Sd15],
    ['pony', BaseModel.Pony],
    ['PDXL', BaseModel.Pony],
    ['flux', BaseModel.Flux1D],
    ['IL', BaseModel.Illustrious],
    ['noob', BaseModel.NoobAI],
    ['sd2', BaseModel.Sd20],
    ['sd3', BaseModel.Sd3],
    ['sd35', BaseModel.Sd35],
  ])('should map the alias %j to %s', (raw, value) => {
    expect(normaliseCivitaiBaseModel(raw)).toEqual({ value, known: true });
  });

  it('should keep an unknown value raw and say so', () => {
    expect(normaliseCivitaiBaseModel('Brand New Model 9')).toEqual({ value: 'Brand New Model 9', known: false });
  });
});

describe(baseModelFromHeader.name, () => {
  it.each([
    [{ ss_base_model_version: 'sd_v1' }, BaseModel.Sd15, false],
    [{ ss_base_model_version: 'sd_v1_v' }, BaseModel.Sd15, false],
    [{ ss_base_model_version: 'sd_v2' }, BaseModel.Sd21, true],
    [{ ss_base_model_version: 'sd_v2_v' }, BaseModel.Sd21_768, true],
    [{ ss_base_model_version: 'sdxl_base_v1-0' }, BaseModel.Sdxl10, true],
    [{ ss_base_model_version: 'flux1' }, BaseModel.Flux1D, false],
    [{ ss_base_model_version: 'flux1', 'modelspec.architecture': 'flux-1-schnell/lora' }, BaseModel.Flux1S, false],
    [{ ss_base_model_version: 'flux1', 'modelspec.architecture': 'flux-1-dev/lora' }, BaseModel.Flux1D, false],
    [
      { ss_base_model_version: 'medium', 'modelspec.architecture': 'stable-diffusion-3-medium/lora' },
      BaseModel.Sd3,
      false,
    ],
    [
      { ss_base_model_version: '5-large', 'modelspec.architecture': 'stable-diffusion-3-5-large/lora' },
      BaseModel.Sd35Large,
      false,
    ],
    [{ ss_base_model_version: '5-medium' }, BaseModel.Sd35Medium, false],
    [{ ss_base_model_version: 'chroma' }, BaseModel.Chroma, false],
    [{ ss_base_model_version: 'lumina2' }, BaseModel.Lumina, false],
    [{ 'modelspec.architecture': 'stable-diffusion-v1-lora' }, BaseModel.Sd15, false],
    [{ 'modelspec.architecture': 'stable-diffusion-xl-v1-base/lora' }, BaseModel.Sdxl10, true],
    [{ 'modelspec.compat_class': 'stable-diffusion-xl-v1' }, BaseModel.Sdxl10, true],
    [{ ss_v2: 'True' }, BaseModel.Sd21, true],
    [{ ss_sd_model_name: 'v1-5-pruned-emaonly.safetensors' }, BaseModel.Sd15, false],
  ])('should read %j as %s', (header, value, ambiguous) => {
    const g = baseModelFromHeader(header);
    expect(g?.value).toBe(value);
    expect(g?.known).toBe(true);
    expect(Boolean(g?.ambiguous)).toBe(ambiguous);
  });

  it('should refine SDXL from the base checkpoint name, flagged as a guess', () => {
    expect(
      baseModelFromHeader({
        ss_base_model_version: 'sdxl_base_v1-0',
        ss_sd_model_name: 'ponyDiffusionV6XL_v6.safetensors',
      }),
    ).toMatchObject({
      value: BaseModel.Pony,
      guessed: true,
    });
    expect(
      baseModelFromHeader({
        ss_base_model_version: 'sdxl_base_v1-0',
        ss_sd_model_name: 'Illustrious-XL-v0.1.safetensors',
      })?.value,
    ).toBe(BaseModel.Illustrious);
    expect(
      baseModelFromHeader({
        ss_base_model_version: 'sdxl_base_v1-0',
        ss_sd_model_name: 'noobaiXLNAIXL_vPred10.safetensors',
      })?.value,
    ).toBe(BaseModel.NoobAI);
    expect(baseModelFromHeader({ ss_base_model_version: 'sd_v1', ss_sd_model_name: 'pony.safetensors' })?.value).toBe(
      BaseModel.Sd15,
    );
  });

  it('should keep unrecognised values raw with known=false, and return undefined without evidence', () => {
    expect(baseModelFromHeader({ ss_base_model_version: 'hunyuan-image-2.1' })).toMatchObject({
      value: 'hunyuan-image-2.1',
      known: false,
    });
    expect(baseModelFromHeader({ 'modelspec.architecture': 'brand-new-arch/lora' })).toMatchObject({
      value: 'brand-new-arch',
      known: false,
    });
    expect(baseModelFromHeader({ ss_output_name: 'x' })).toBeUndefined();
  });

  it('should read an old kohya header (ss_v2 False, no ss_base_model_version) as SD 1.5', () => {
    expect(
      baseModelFromHeader({ ss_v2: 'False', ss_sd_model_name: 'animefull-final-pruned-fp16.safetensors' }),
    ).toEqual({
      value: 'SD 1.5',
      known: true,
      evidence: 'ss_v2=False; ss_sd_model_name=animefull-final-pruned-fp16.safetensors',
    });
    // Without a base checkpoint of the SD 1 family it is still SD 1 (kohya wrote the version key from SDXL on), flagged.
    expect(baseModelFromHeader({ ss_output_name: 'x', ss_v2: 'False' })).toMatchObject({
      value: 'SD 1.5',
      guessed: true,
    });
    // A name of a later base rules it out; a version key decides on its own.
    expect(baseModelFromHeader({ ss_v2: 'False', ss_sd_model_name: 'ponyDiffusionV6XL.safetensors' })).toBeUndefined();
    expect(baseModelFromHeader({ ss_v2: 'False', ss_base_model_version: 'sdxl_base_v1-0' })).toMatchObject({
      value: 'SDXL 1.0',
    });
  });
});

describe(normaliseBaseModel.name, () => {
  const sdxlHeader = { ss_base_model_version: 'sdxl_base_v1-0' };

  it('should prefer the Civitai value over the header', () => {
    expect(normaliseBaseModel({ civitai: 'Illustrious', header: sdxlHeader })).toMatchObject({
      value: BaseModel.Illustrious,
      source: BaseModelSource.Civitai,
    });
  });

  it('should use the A1111 sd version hint over the header, unless the header is finer in the same family', () => {
    expect(normaliseBaseModel({ sdVersion: 'SD1', header: sdxlHeader })).toMatchObject({
      value: BaseModel.Sd15,
      source: BaseModelSource.SdVersionHint,
    });
    expect(
      normaliseBaseModel({ sdVersion: 'SDXL', header: { ...sdxlHeader, ss_sd_model_name: 'pony_v6.safetensors' } }),
    ).toMatchObject({
      value: BaseModel.Pony,
      source: BaseModelSource.Header,
    });
    expect(normaliseBaseModel({ sdVersion: 'Unknown', header: sdxlHeader })).toMatchObject({
      value: BaseModel.Sdxl10,
      source: BaseModelSource.Header,
    });
  });

  it('should ignore an "Unknown" Civitai value and say Unknown when nothing is usable', () => {
    expect(normaliseBaseModel({ civitai: 'Unknown', header: sdxlHeader }).value).toBe(BaseModel.Sdxl10);
    expect(normaliseBaseModel({})).toEqual({ value: BaseModel.Unknown, known: true, source: BaseModelSource.None });
    expect(normaliseBaseModel({ header: { ss_output_name: 'x' } }).value).toBe(BaseModel.Unknown);
  });
});
