import { describe, it, expect } from '@jest/globals';
import { InvalidCompositionOptionError } from './composition-error.js';
import {
  TriggerWordPolicy,
  containsPhrase,
  parseTriggerWordPolicy,
  selectTriggerWords,
  triggerWordsOf,
} from './trigger-words.js';

const words = (triggerWords: string[], trainedWords: string[], activationText: string | null = null) => ({
  triggerWords,
  trainedWords,
  activationText,
});

describe('triggerWordsOf', () => {
  it('should give nothing under the none policy', () => {
    expect(triggerWordsOf(words(['picked'], ['trained']), TriggerWordPolicy.None)).toEqual([]);
  });

  it('should give the trained words under the trained policy', () => {
    expect(triggerWordsOf(words(['picked'], ['trained']), TriggerWordPolicy.Trained)).toEqual(['trained']);
  });

  it('should prefer the picked words under the chosen policy', () => {
    expect(triggerWordsOf(words(['picked'], ['trained']), TriggerWordPolicy.Chosen)).toEqual(['picked']);
  });

  it('should fall back to the trained words when none were picked', () => {
    expect(triggerWordsOf(words([], ['trained']), TriggerWordPolicy.Chosen)).toEqual(['trained']);
  });

  it('should fall back to the activation text before the trained words', () => {
    expect(triggerWordsOf(words([], ['trained'], 'act one, act two'), TriggerWordPolicy.Chosen)).toEqual([
      'act one',
      'act two',
    ]);
  });

  it('should split comma lists held in one entry and drop blanks', () => {
    expect(triggerWordsOf(words([], ['mystyle,  painterly ', ' , ']), TriggerWordPolicy.Trained)).toEqual([
      'mystyle',
      'painterly',
    ]);
  });
});

describe('selectTriggerWords', () => {
  it('should keep order and drop case-insensitive repeats across adapters', () => {
    const adapters = [words(['Alice', 'red hair'], []), words(['alice', 'Blue Sky'], [])];
    expect(selectTriggerWords(adapters, TriggerWordPolicy.Chosen)).toEqual(['Alice', 'red hair', 'Blue Sky']);
  });

  it('should skip words the prefix or suffix already holds', () => {
    const adapters = [words(['mystyle', 'red hair', 'cat'], [])];
    expect(
      selectTriggerWords(adapters, TriggerWordPolicy.Chosen, ['a photo of MyStyle', 'with red  hair, category']),
    ).toEqual(['cat']);
  });

  it('should not count a word that only appears inside a LoRA tag', () => {
    const adapters = [words(['mystyle'], [])];
    expect(selectTriggerWords(adapters, TriggerWordPolicy.Chosen, ['a cat <lora:mystyle:1>'])).toEqual(['mystyle']);
  });
});

describe('containsPhrase', () => {
  it('should match whole words only', () => {
    expect(containsPhrase('a category', 'cat')).toBe(false);
    expect(containsPhrase('a cat, sitting', 'Cat')).toBe(true);
    expect(containsPhrase('(masterpiece:1.2)', 'masterpiece')).toBe(true);
    expect(containsPhrase('ｱﾘｽ スタイル', 'ｱﾘｽ')).toBe(true);
    expect(containsPhrase('a cat', '')).toBe(false);
  });
});

describe('parseTriggerWordPolicy', () => {
  it('should default to chosen and reject unknown policies', () => {
    expect(parseTriggerWordPolicy(undefined)).toBe(TriggerWordPolicy.Chosen);
    expect(parseTriggerWordPolicy('trained')).toBe(TriggerWordPolicy.Trained);
    expect(() => parseTriggerWordPolicy('all')).toThrow(InvalidCompositionOptionError);
  });
});
