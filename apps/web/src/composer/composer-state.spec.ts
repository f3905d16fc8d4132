import { describe, expect, it } from '@jest/globals';
import {
  addPicks,
  composerParams,
  composerUrlWith,
  decodePick,
  encodePick,
  parseComposer,
  removePick,
  toComposeRequest,
  updatePick,
} from './composer-state';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

describe('composer state', () => {
  it('should encode picks compactly and read them back', () => {
    expect(encodePick({ id: A })).toBe(A);
    expect(encodePick({ id: A, weight: 0.8 })).toBe(`${A}:0.8`);
    expect(encodePick({ id: A, te: 0.5 })).toBe(`${A}::0.5`);
    expect(decodePick(`${A}::0.5:1.2`)).toEqual({ id: A, te: 0.5, unet: 1.2 });
    expect(decodePick('not-a-uuid:1')).toBeNull();
    expect(decodePick(`${A}:abc`)).toEqual({ id: A });
  });

  it('should round-trip the whole state through the URL, dropping duplicates and bad values', () => {
    const params = new URLSearchParams();
    params.append('a', `${A}:0.7`);
    params.append('a', `${B}:1:0.5:1`);
    params.append('a', `${A}:0.2`);
    params.set('dialect', 'a1111');
    params.set('triggerWords', 'everything');
    params.set('base', 'SDXL 1.0');
    params.set('prefix', 'a castle');
    const state = parseComposer(params);
    expect(state.adapters).toEqual([
      { id: A, weight: 0.7 },
      { id: B, weight: 1, te: 0.5, unet: 1 },
    ]);
    expect(state.triggerWords).toBeUndefined();
    expect(parseComposer(composerParams(state))).toEqual(state);
  });

  it('should build the compose request only when adapters are picked', () => {
    const state = parseComposer(new URLSearchParams());
    expect(toComposeRequest(state)).toBeNull();
    const picked = updatePick(addPicks(state, [A, B, A]), B, { weight: 0.6 });
    expect(toComposeRequest({ ...picked, dialect: 'sdnext', negative: 'blurry' })).toEqual({
      adapters: [{ id: A }, { id: B, weight: 0.6 }],
      dialect: 'sdnext',
      negative: 'blurry',
    });
    expect(removePick(picked, A).adapters).toEqual([{ id: B, weight: 0.6 }]);
  });

  it('should link to the composer with adapters added', () => {
    expect(composerUrlWith([A, B])).toBe(`/composer?a=${A}&a=${B}`);
  });
});
