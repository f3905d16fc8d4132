import { describe, expect, it } from '@jest/globals';
import type { AdapterPageDto, AdapterSummaryDto } from './adapter.dto.js';
import { adapterPageJson } from './adapter.mapper.js';

const summary = (id: string, extra: Partial<AdapterSummaryDto> = {}): AdapterSummaryDto =>
  ({
    id,
    name: `a "quoted" ${id}\n`,
    tags: ['x', 'ü'],
    missingSince: null,
    hasUpdate: false,
    ...extra,
  }) as AdapterSummaryDto;

const page = (items: AdapterSummaryDto[], more: Partial<AdapterPageDto> = {}): AdapterPageDto =>
  ({
    items,
    total: 7,
    page: 2,
    limit: 2,
    pages: 4,
    sort: 'name',
    order: 'asc',
    warnings: [],
    ...more,
  }) as AdapterPageDto;

describe('adapterPageJson', () => {
  it('should say what JSON.stringify says of the page, for shared (frozen) and fresh summaries alike', () => {
    const shared = Object.freeze(summary('1'));
    for (const p of [
      page([shared, summary('2', { hasUpdate: true })]),
      page([], { facets: { baseModel: [{ value: 'SDXL 1.0', count: 3 }] } }),
      page([shared], {
        warnings: [{ code: 'unknown_base_model', field: 'baseModel', value: 'x', message: 'm' }],
      } as never),
    ]) {
      expect(JSON.parse(adapterPageJson(p))).toEqual(JSON.parse(JSON.stringify(p)));
    }
  });

  it('should give a shared summary the same text on every page that holds it', () => {
    const shared = Object.freeze(summary('1'));
    const first = adapterPageJson(page([shared]));
    expect(adapterPageJson(page([shared]))).toBe(first);
    expect(JSON.parse(adapterPageJson(page([shared, shared]))).items).toEqual([{ ...shared }, { ...shared }]);
  });
});
