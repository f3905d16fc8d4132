import { describe, expect, it } from '@jest/globals';
import { resolveBaseModelFilter } from './base-model-filter.js';

const LIBRARY = ['SDXL 1.0', 'Pony', 'SD 1.5', 'Flux.1 D', 'Illustrious', 'sdxl', 'Chroma-Ish v2', 'Unknown'];

describe(resolveBaseModelFilter.name, () => {
  it.each([
    ['SDXL 1.0', ['SDXL 1.0', 'sdxl']],
    ['sdxl 1.0', ['SDXL 1.0', 'sdxl']],
    ['SDXL', ['SDXL 1.0', 'sdxl']],
    ['sdxl', ['SDXL 1.0', 'sdxl']],
    ['pony', ['Pony']],
    ['PONY', ['Pony']],
    ['SD15', ['SD 1.5']],
    ['flux', ['Flux.1 D']],
    ['il', ['Illustrious']],
    ['unknown', ['Unknown']],
  ])('should resolve %j to the stored spellings %j', (value, spellings) => {
    const resolved = resolveBaseModelFilter([value], LIBRARY);
    expect(resolved.baseModels.sort()).toEqual([...spellings].sort());
    expect(resolved.unmatched).toEqual([]);
  });

  it('should match a base model outside the vocabulary by the spelling the library holds, in any case', () => {
    expect(resolveBaseModelFilter(['chroma-ish  V2'], LIBRARY)).toEqual({
      baseModels: ['Chroma-Ish v2'],
      unmatched: [],
    });
  });

  it('should keep a known base model the library does not hold yet, without a warning', () => {
    expect(resolveBaseModelFilter(['sd35'], LIBRARY)).toEqual({ baseModels: ['SD 3.5'], unmatched: [] });
  });

  it('should report a value that is no base model, and still match it exactly so that it finds nothing', () => {
    expect(resolveBaseModelFilter(['pony', ' sdxxl '], LIBRARY)).toEqual({
      baseModels: ['Pony', 'sdxxl'],
      unmatched: [' sdxxl '],
    });
  });
});
