import { describe, expect, it } from '@jest/globals';
import {
  hasFilters,
  type LibraryFilters,
  parseFilters,
  toggleValue,
  toListQuery,
  toSearchParams,
} from './library-filters';

const empty: LibraryFilters = { baseModel: [], tags: [], modelType: [], view: 'grid' };

describe('library filters ↔ URL', () => {
  it('should read every filter from the URL and write the same URL back', () => {
    const url =
      'q=girl+armor&folder=characters&baseModel=SDXL+1.0&baseModel=Pony&tags=anime&tags=style&tagMode=all&nsfwMax=4&active=true&favorite=false&hasPreview=true&hasWarnings=false&sort=downloads&order=asc&view=list';
    const filters = parseFilters(new URLSearchParams(url));
    expect(filters).toEqual({
      ...empty,
      q: 'girl armor',
      folder: 'characters',
      baseModel: ['SDXL 1.0', 'Pony'],
      tags: ['anime', 'style'],
      tagMode: 'all',
      nsfwMax: 4,
      active: true,
      favorite: false,
      hasPreview: true,
      hasWarnings: false,
      sort: 'downloads',
      order: 'asc',
      view: 'list',
    });
    expect(toSearchParams(filters).toString()).toBe(url);
  });

  it('should drop malformed values instead of sending them to the API', () => {
    const filters = parseFilters(
      new URLSearchParams('nsfwMax=3&sort=bogus&order=up&active=yes&view=tiles&tagMode=some&q=%20%20'),
    );
    expect(filters).toEqual(empty);
    expect(toSearchParams(filters).toString()).toBe('');
  });

  it('should keep the default view and unset filters out of the URL', () => {
    expect(toSearchParams({ ...empty, missing: false, nsfwMax: 0 }).toString()).toBe('nsfwMax=0&missing=false');
    expect(toSearchParams({ ...empty, tagMode: 'all' }).toString()).toBe('');
  });

  it('should build the API query with lists and booleans typed', () => {
    const query = toListQuery(
      parseFilters(new URLSearchParams('tags=a&tags=b&missing=true&hasWarnings=true&nsfwMax=0&view=list')),
    );
    expect(query).toEqual({ tags: ['a', 'b'], missing: true, hasWarnings: true, nsfwMax: 0 });
  });

  it('should toggle list values and tell whether anything filters the library', () => {
    expect(toggleValue(['a', 'b'], 'a')).toEqual(['b']);
    expect(toggleValue(['b'], 'a')).toEqual(['b', 'a']);
    expect(hasFilters({ ...empty, sort: 'name', view: 'list' })).toBe(false);
    expect(hasFilters({ ...empty, favorite: false })).toBe(true);
  });
});
