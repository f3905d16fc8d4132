import { describe, it, expect } from '@jest/globals';
import { Dialect } from './dialect.js';
import {
  ParseWarningCode,
  parsePrompt,
  parsePythonFloat,
  parsePythonInt,
  parseStepSchedule,
  type ParsedTag,
} from './parser.js';

function only(prompt: string, dialect: Dialect): ParsedTag {
  const { tokens } = parsePrompt(prompt, dialect);
  expect(tokens).toHaveLength(1);
  return tokens[0];
}

describe('parsePrompt', () => {
  it('should find every tag with its offsets and remove it from the text', () => {
    const prompt = 'a cat, <lora:x:1>, dog <hypernet:h:0.5>';
    const parsed = parsePrompt(prompt);
    expect(parsed.tokens.map((t) => [t.type, t.name, t.raw, t.start, t.end])).toEqual([
      ['lora', 'x', '<lora:x:1>', 7, 17],
      ['hypernet', 'h', '<hypernet:h:0.5>', 23, 39],
    ]);
    expect(prompt.slice(parsed.tokens[1].start, parsed.tokens[1].end)).toBe('<hypernet:h:0.5>');
    expect(parsed.text).toBe('a cat, dog');
  });

  it('should give an empty result for an empty or missing prompt', () => {
    expect(parsePrompt(undefined)).toEqual({ tokens: [], text: '', warnings: [] });
  });

  it('should not match text that is not a tag', () => {
    expect(parsePrompt('<lora> <lo-ra:x:1> a<b').tokens).toEqual([]);
    expect(only('<<lora:x:1>>', Dialect.SdNext).raw).toBe('<lora:x:1>');
  });

  it('should default the multiplier to 1 in <lora:name>', () => {
    for (const dialect of [Dialect.SdNext, Dialect.A1111]) {
      expect(only('<lora:name>', dialect)).toMatchObject({ weight: 1, te: 1, unet: 1 });
    }
  });

  it('should read <lora:name:0.8> the same on both servers', () => {
    for (const dialect of [Dialect.SdNext, Dialect.A1111]) {
      expect(only('<lora:name:0.8>', dialect)).toMatchObject({ name: 'name', weight: 0.8, te: 0.8, unet: 0.8 });
    }
  });

  it('should read positional te:unet:dyn on A1111 only', () => {
    expect(only('<lora:name:0.8:0.5:16>', Dialect.A1111)).toMatchObject({ weight: 0.8, te: 0.8, unet: 0.5, dyn: 16 });
    const sdnext = only('<lora:name:0.8:0.5:16>', Dialect.SdNext);
    expect(sdnext).toMatchObject({ weight: 0.8, te: 0.8, unet: 0.8 });
    expect(sdnext.dyn).toBeUndefined();
    expect(sdnext.positional).toEqual(['name', '0.8', '0.5', '16']);
  });

  it('should read named te, unet and dyn on both servers', () => {
    for (const dialect of [Dialect.SdNext, Dialect.A1111]) {
      const tag = only('<lora:name:te=0.5:unet=1.0:dyn=16>', dialect);
      expect(tag).toMatchObject({ weight: 1, te: 0.5, unet: 1, dyn: 16 });
      expect({ ...tag.named }).toEqual({ te: '0.5', unet: '1.0', dyn: '16' });
      expect(tag.positional).toEqual(['name']);
    }
  });

  it('should default unet to the named te on both servers', () => {
    for (const dialect of [Dialect.SdNext, Dialect.A1111]) {
      expect(only('<lora:x:0.8:te=0.5>', dialect)).toMatchObject({ weight: 0.8, te: 0.5, unet: 0.5 });
    }
  });

  it('should keep SD.Next block weights, module and high/low as arguments', () => {
    const tag = only('<lora:wan:high:in=0.2:mid=0.4:out=1:module=unet>', Dialect.SdNext);
    expect(tag.weight).toBe(1);
    expect(tag.positional).toEqual(['wan', 'high']);
    expect({ ...tag.named }).toEqual({ in: '0.2', mid: '0.4', out: '1', module: 'unet' });
    expect(parsePrompt('<lora:wan:high>', Dialect.SdNext).warnings).toEqual([]);
  });

  it('should read SD.Next step schedules in named and positional multipliers', () => {
    const named = only('<lora:x:te=0.1@1,0.6@6>', Dialect.SdNext);
    expect(named.te).toEqual({
      raw: '0.1@1,0.6@6',
      points: [
        { weight: 0.1, step: 1 },
        { weight: 0.6, step: 6 },
      ],
    });
    expect(named.unet).toEqual(named.te);
    const positional = only('<lora:x:1@0.5,0.2@0>', Dialect.SdNext);
    expect(positional.weight).toEqual({
      raw: '1@0.5,0.2@0',
      points: [
        { weight: 0.2, step: 0 },
        { weight: 1, step: 0.5 },
      ],
    });
  });

  it('should report a schedule as unreadable on A1111', () => {
    const parsed = parsePrompt('<lora:x:0.2@0,1@10>', Dialect.A1111);
    expect(parsed.tokens[0].weight).toBeNull();
    expect(parsed.warnings).toEqual([
      { code: ParseWarningCode.InvalidNumber, message: expect.stringContaining('A1111'), tokenIndex: 0 },
    ]);
  });

  it('should read a non-numeric multiplier as 1 on SD.Next, with a warning', () => {
    const parsed = parsePrompt('<lora:x:strong>', Dialect.SdNext);
    expect(parsed.tokens[0]).toMatchObject({ weight: 1, te: 1, unet: 1 });
    expect(parsed.warnings.map((w) => w.code)).toEqual([ParseWarningCode.InvalidNumber]);
  });

  it('should report a non-numeric multiplier as an error on A1111', () => {
    const parsed = parsePrompt('ok <lora:a:1> <lora:x:strong>', Dialect.A1111);
    expect(parsed.tokens[1].weight).toBeNull();
    expect(parsed.warnings).toEqual([
      { code: ParseWarningCode.InvalidNumber, message: expect.stringContaining('strong'), tokenIndex: 1 },
    ]);
  });

  it('should treat <lyco:…> as a LoRA on A1111 and as ignored on SD.Next', () => {
    expect(only('<lyco:x:0.7>', Dialect.A1111)).toMatchObject({ isLora: true, weight: 0.7 });
    const parsed = parsePrompt('<lyco:x:0.7>', Dialect.SdNext);
    expect(parsed.tokens[0].isLora).toBe(false);
    expect(parsed.warnings.map((w) => w.code)).toEqual([ParseWarningCode.IgnoredTag]);
  });

  it('should split arguments like Python: only items with exactly one = are named', () => {
    const tag = only('<lora:a=b=c:0.5:__proto__=1>', Dialect.SdNext);
    expect(tag.name).toBe('a=b=c');
    expect(tag.named.__proto__).toBe('1');
    expect(Object.keys(tag.named)).toEqual(['__proto__']);
  });

  it('should warn about a LoRA tag without a name', () => {
    const parsed = parsePrompt('<lora:te=1>', Dialect.SdNext);
    expect(parsed.tokens[0].name).toBe('');
    expect(parsed.warnings.map((w) => w.code)).toEqual([ParseWarningCode.MissingName]);
  });

  it('should keep unicode, spaces and negative weights', () => {
    expect(only('<lora:アリス スタイル:-0.5>', Dialect.SdNext)).toMatchObject({
      name: 'アリス スタイル',
      weight: -0.5,
    });
  });

  it('should report an unreadable dyn', () => {
    const parsed = parsePrompt('<lora:x:1:dyn=big>', Dialect.SdNext);
    expect(parsed.tokens[0].dyn).toBeNull();
    expect(parsed.warnings.map((w) => w.code)).toEqual([ParseWarningCode.InvalidNumber]);
  });
});

describe('parsePythonFloat', () => {
  it.each([
    [' 0.5 ', 0.5],
    ['1', 1],
    ['.5', 0.5],
    ['1.', 1],
    ['+1e-1', 0.1],
    ['1_0', 10],
    ['-inf', -Infinity],
  ])('should read %p as %p', (text, value) => {
    expect(parsePythonFloat(text)).toBe(value);
  });

  it.each(['', '1..0', '0x10', '1_', '_1', 'abc', '1,5'])('should reject %p', (text) => {
    expect(parsePythonFloat(text)).toBeNull();
  });
});

describe('parsePythonInt', () => {
  it('should read integers and reject decimals', () => {
    expect(parsePythonInt(' 16 ')).toBe(16);
    expect(parsePythonInt('16.0')).toBeNull();
  });
});

describe('parseStepSchedule', () => {
  it('should return a plain number when the first entry has no step', () => {
    expect(parseStepSchedule('0.5')).toBe(0.5);
  });

  it('should give a missing step the implicit 1', () => {
    expect(parseStepSchedule('0.3@0,0.9')).toEqual({
      raw: '0.3@0,0.9',
      points: [
        { weight: 0.3, step: 0 },
        { weight: 0.9, step: 1 },
      ],
    });
  });

  it('should reject unreadable parts', () => {
    expect(parseStepSchedule('0.3@x')).toBeNull();
  });
});
