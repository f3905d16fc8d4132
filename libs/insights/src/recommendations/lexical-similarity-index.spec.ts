import { describe, expect, it } from '@jest/globals';
import { LexicalSimilarityIndex } from './lexical-similarity-index.js';
import type { AdapterText } from './text-analysis.js';

const doc = (id: string, extra: Partial<AdapterText>): AdapterText => ({
  id,
  name: id,
  description: null,
  tags: [],
  trainedWords: [],
  triggerWords: [],
  creator: null,
  baseModel: 'SDXL 1.0',
  ...extra,
});

function library(): LexicalSimilarityIndex {
  const index = new LexicalSimilarityIndex();
  index.upsert(
    doc('ink', { name: 'Ink Wash Style', tags: ['style', 'ink', 'watercolor'], triggerWords: ['ink wash style'] }),
  );
  index.upsert(
    doc('brush', { name: 'Brush Ink Painting', tags: ['style', 'ink', 'painting'], triggerWords: ['sumi-e'] }),
  );
  index.upsert(doc('robot', { name: 'Mecha Robot', tags: ['robot', 'mecha'], triggerWords: ['mecha armor'] }));
  index.upsert(doc('sd15ink', { name: 'Old Ink', tags: ['ink'], baseModel: 'SD 1.5' }));
  return index;
}

describe(LexicalSimilarityIndex.name, () => {
  it('should rank the adapter sharing the most telling words first, with the shared words', () => {
    const hits = library().similarTo('ink', { limit: 5 });
    expect(hits[0]).toMatchObject({ id: 'brush' });
    expect(hits[0].terms).toContain('ink');
    expect(hits[0].score).toBeGreaterThan(0);
    expect(hits[0].score).toBeLessThanOrEqual(1);
    expect(hits.map((h) => h.id)).not.toContain('ink');
    expect(hits.map((h) => h.id)).not.toContain('robot');
  });

  it('should leave out base models the caller does not accept', () => {
    const hits = library().similarTo('ink', { limit: 5, accept: (b) => b === 'SDXL 1.0' });
    expect(hits.map((h) => h.id)).toEqual(['brush']);
  });

  it('should find a whole trigger phrase in a prompt and report it', () => {
    const hits = library().search('a knight in <lora:x:0.8> (mecha armor:1.2), city', { limit: 3 });
    expect(hits[0]).toMatchObject({ id: 'robot', score: 1 });
    expect(hits[0].terms).toEqual(expect.arrayContaining(['mecha armor', 'mecha', 'armor']));
  });

  it('should answer a trigger word exactly first, then phrases containing it', () => {
    const index = library();
    index.upsert(doc('wash', { triggerWords: ['wash'] }));
    const hits = index.byTrigger('WASH', { limit: 5 });
    expect(hits.map((h) => [h.id, h.score])).toEqual([
      ['wash', 1],
      ['ink', 0.5],
    ]);
  });

  it('should forget a removed adapter and re-index an edited one', () => {
    const index = library();
    index.remove('brush');
    expect(index.similarTo('ink', { limit: 5 }).map((h) => h.id)).not.toContain('brush');
    index.upsert(doc('robot', { name: 'Ink Robot', tags: ['ink', 'watercolor'] }));
    expect(index.similarTo('ink', { limit: 5 })[0].id).toBe('robot');
    expect(index.stats().documents).toBe(3);
  });
});
