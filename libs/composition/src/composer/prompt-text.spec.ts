import { describe, it, expect } from '@jest/globals';
import { joinPromptParts, stripTags, tidyPrompt } from './prompt-text.js';

describe('tidyPrompt', () => {
  it('should remove empty comma items, doubled spaces and edge commas', () => {
    expect(tidyPrompt('a cat,  , dog ,   ')).toBe('a cat, dog');
    expect(tidyPrompt(', a\n\n\n\nb ,')).toBe('a\n\nb');
  });
});

describe('stripTags', () => {
  it('should remove every tag like the servers do', () => {
    expect(stripTags('a cat, <lora:x:1>, <hypernet:y:0.5> dog <lyco:z>')).toBe('a cat, dog');
  });
});

describe('joinPromptParts', () => {
  it('should drop empty parts and stray commas', () => {
    expect(joinPromptParts(['a cat, ', null, '  ', ', dog'])).toBe('a cat, dog');
  });
});
