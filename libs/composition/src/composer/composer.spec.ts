import { describe, it, expect } from '@jest/globals';
import type { ComposableAdapter } from './composable-adapter.js';
import { CompositionWarningCode, composePrompt, type CompositionInput } from './composer.js';
import {
  CompositionError,
  NoActiveAdaptersError,
  InvalidCompositionOptionError,
  UnknownAdapterError,
  UnknownDialectError,
  WeightOutOfRangeError,
} from './composition-error.js';
import { Dialect } from './dialect.js';
import { LoraNameTable, namesAcceptedBy } from './name-resolution.js';
import { parsePrompt } from './parser.js';
import { TriggerWordPolicy } from './trigger-words.js';

function lora(id: string, relativePath: string, extra: Partial<ComposableAdapter> = {}): ComposableAdapter {
  return { id, name: `Adapter ${id}`, rootId: 'root', relativePath, trainedWords: [], triggerWords: [], ...extra };
}

const painterly = lora('p', 'styles/painterly.v2.safetensors', {
  name: 'My Painterly Style',
  trainedWords: ['painterly, brush strokes'],
  preferredWeight: 0.8,
  minWeight: 0,
  maxWeight: 1.5,
  baseModel: 'SDXL 1.0',
});
const alice = lora('a', 'characters/alice.safetensors', { triggerWords: ['alice'], baseModel: 'SDXL 1.0' });
const library = [painterly, alice];

function codes(input: CompositionInput, lib: readonly ComposableAdapter[] = library): CompositionWarningCode[] {
  return composePrompt(input, lib).warnings.map((w) => w.code);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('composePrompt', () => {
  it('should write file names, not display names, with prefix, trigger words and suffix first', () => {
    const result = composePrompt(
      {
        adapters: [{ id: 'p' }, { id: 'a', weight: 0.6 }],
        prefix: 'a portrait, ',
        suffix: 'high quality',
        negative: ' blurry ',
      },
      library,
    );
    expect(result.prompt).toBe(
      'a portrait, painterly, brush strokes, alice, high quality <lora:painterly_v2:0.8> <lora:alice:0.6>',
    );
    expect(result.negativePrompt).toBe('blurry');
    expect(result.tokens).toEqual(['<lora:painterly_v2:0.8>', '<lora:alice:0.6>']);
    expect(result.triggerWords).toEqual(['painterly', 'brush strokes', 'alice']);
    expect(result.adapters).toEqual([
      {
        id: 'p',
        name: 'painterly_v2',
        displayName: 'My Painterly Style',
        token: '<lora:painterly_v2:0.8>',
        weight: 0.8,
        te: 0.8,
        unet: 0.8,
      },
      { id: 'a', name: 'alice', displayName: 'Adapter a', token: '<lora:alice:0.6>', weight: 0.6, te: 0.6, unet: 0.6 },
    ]);
    expect(result.warnings).toEqual([]);
    expect(result.dialect).toBe(Dialect.SdNext);
  });

  it('should compose the active adapters in order when no adapters are given', () => {
    const result = composePrompt({ adapters: [], activeInOrder: [alice, painterly], triggerWords: 'none' }, []);
    expect(result.prompt).toBe('<lora:alice:1> <lora:painterly_v2:0.8>');
  });

  it('should write the A1111 stem with its dots', () => {
    const result = composePrompt({ adapters: [{ id: 'p' }], dialect: 'a1111', triggerWords: 'none' }, library);
    expect(result.tokens).toEqual(['<lora:painterly.v2:0.8>']);
  });

  it('should write te and unet when they differ from the weight', () => {
    const result = composePrompt({ adapters: [{ id: 'a', weight: 1, te: 0.5 }], triggerWords: 'none' }, library);
    expect(result.tokens).toEqual(['<lora:alice:1:te=0.5:unet=1>']);
  });

  it('should skip trigger words the prefix already holds', () => {
    const result = composePrompt({ adapters: [{ id: 'a' }], prefix: 'Alice in a garden' }, library);
    expect(result.triggerWords).toEqual([]);
    expect(result.prompt).toBe('Alice in a garden <lora:alice:1>');
  });

  describe('errors', () => {
    it('should name the field of an unknown adapter id', () => {
      const error = thrown(() => composePrompt({ adapters: [{ id: 'a' }, { id: 'nope' }] }, library));
      expect(error).toBeInstanceOf(UnknownAdapterError);
      expect(error).toBeInstanceOf(CompositionError);
      expect((error as UnknownAdapterError).field).toBe('adapters[1].id');
    });

    it('should name the adapter and the field of a weight out of range', () => {
      const error = thrown(() => composePrompt({ adapters: [{ id: 'a' }, { id: 'p', unet: 2 }] }, library));
      expect(error).toBeInstanceOf(WeightOutOfRangeError);
      expect((error as WeightOutOfRangeError).field).toBe('adapters[1].unet');
      expect((error as WeightOutOfRangeError).message).toContain('My Painterly Style');
    });

    it('should reject an unknown dialect', () => {
      const error = thrown(() => composePrompt({ adapters: [{ id: 'a' }], dialect: 'comfy' }, library));
      expect(error).toBeInstanceOf(UnknownDialectError);
      expect((error as UnknownDialectError).field).toBe('dialect');
    });

    it('should reject a composition with no adapters and none active, saying how to give some', () => {
      expect(() => composePrompt({ adapters: [], activeInOrder: [] }, library)).toThrow(NoActiveAdaptersError);
      const error = thrown(() => composePrompt({}, library));
      expect(error).toBeInstanceOf(NoActiveAdaptersError);
      expect(error).toMatchObject({ code: 'no_active_adapters', field: 'adapters' });
      expect((error as NoActiveAdaptersError).message).toMatch(/pass `adapters`, or activate some/);
    });

    it('should reject a bad weight cap or trigger-word policy', () => {
      expect(() => composePrompt({ adapters: [{ id: 'a' }], weightCap: 0 }, library)).toThrow(
        InvalidCompositionOptionError,
      );
      expect(() => composePrompt({ adapters: [{ id: 'a' }], triggerWords: 'most' }, library)).toThrow(
        InvalidCompositionOptionError,
      );
    });
  });

  describe('warnings', () => {
    it('should warn about mixed base models and a checkpoint mismatch', () => {
      const pony = lora('y', 'pony.safetensors', { baseModel: 'Pony' });
      const lib = [...library, pony];
      expect(codes({ adapters: [{ id: 'a' }, { id: 'p' }], checkpointBaseModel: 'sdxl  1.0' }, lib)).toEqual([]);
      expect(codes({ adapters: [{ id: 'a' }, { id: 'y' }], checkpointBaseModel: 'SDXL 1.0' }, lib)).toEqual([
        CompositionWarningCode.MixedBaseModels,
        CompositionWarningCode.BaseModelMismatch,
      ]);
    });

    it('should warn about a tombstoned file but still write its token', () => {
      const gone = lora('g', 'gone.safetensors', { missingSince: new Date('2025-01-01') });
      const result = composePrompt({ adapters: [{ id: 'g' }] }, [...library, gone]);
      expect(result.warnings.map((w) => [w.code, w.adapterId])).toEqual([[CompositionWarningCode.MissingFile, 'g']]);
      expect(result.tokens).toEqual(['<lora:gone:1>']);
    });

    it('should warn about adapters rated R or above', () => {
      const lib = [lora('r', 'r.safetensors', { nsfwLevel: 5 }), lora('s', 's.safetensors', { nsfwLevel: 3 })];
      expect(codes({ adapters: [{ id: 'r' }, { id: 's' }] }, lib)).toEqual([CompositionWarningCode.NsfwAdapter]);
    });

    it('should use the first of duplicate adapters and warn', () => {
      const result = composePrompt(
        {
          adapters: [
            { id: 'a', weight: 0.5 },
            { id: 'a', weight: 0.9 },
          ],
        },
        library,
      );
      expect(result.tokens).toEqual(['<lora:alice:0.5>']);
      expect(result.warnings.map((w) => w.code)).toEqual([CompositionWarningCode.DuplicateAdapter]);
    });

    it('should scale all weights when their sum exceeds the cap', () => {
      const result = composePrompt(
        {
          adapters: [
            { id: 'p', weight: 1 },
            { id: 'a', weight: -1, te: 0.5 },
          ],
          weightCap: 1,
          triggerWords: 'none',
        },
        library,
      );
      expect(result.tokens).toEqual(['<lora:painterly_v2:0.5>', '<lora:alice:-0.5:te=0.25:unet=-0.5>']);
      expect(result.warnings.map((w) => w.code)).toEqual([CompositionWarningCode.WeightCapExceeded]);
    });

    it('should omit the token and trigger words of a name that cannot be written', () => {
      const bad = lora('b', 'bad:name.safetensors', { triggerWords: ['badword'] });
      const result = composePrompt({ adapters: [{ id: 'b' }, { id: 'a' }] }, [...library, bad]);
      expect(result.tokens).toEqual(['<lora:alice:1>']);
      expect(result.triggerWords).toEqual(['alice']);
      expect(result.adapters[0].token).toBeNull();
      expect(result.warnings.map((w) => [w.code, w.adapterId])).toEqual([[CompositionWarningCode.UnresolvedName, 'b']]);
    });

    it('should warn about an ambiguous name and still write its best guess', () => {
      const rootAlice = lora('r', 'alice.safetensors');
      const result = composePrompt({ adapters: [{ id: 'r' }], triggerWords: 'none' }, [...library, rootAlice]);
      expect(result.tokens).toEqual(['<lora:alice:1>']);
      expect(result.warnings).toEqual([
        { code: CompositionWarningCode.UnresolvedName, message: expect.stringContaining('ambiguous'), adapterId: 'r' },
      ]);
    });

    it('should warn when the server does not list the file', () => {
      const input = { adapters: [{ id: 'p' }, { id: 'a' }], backendLoraNames: ['painterly_v2'] };
      const result = composePrompt(input, library);
      expect(result.warnings.map((w) => [w.code, w.adapterId])).toEqual([[CompositionWarningCode.UnresolvedName, 'a']]);
      expect(codes({ ...input, backendLoraNames: ['painterly_v2', 'alice'] })).toEqual([]);
    });
  });

  describe('round trip', () => {
    const tricky = [
      lora('dots', 'a/my.lora.v2.safetensors', { trainedWords: ['dotted'] }),
      lora('uni', 'キャラ/アリス スタイル.safetensors', { triggerWords: ['アリス'] }),
      lora('dup1', 'characters/bob.safetensors', { ssOutputName: 'bob_character' }),
      lora('dup2', 'styles/bob.safetensors', { ssOutputName: 'bob_style' }),
      lora('neg', 'sliders/detail slider.safetensors'),
      lora('alias', 'x/plain.safetensors', { ssOutputName: 'fancy alias' }),
    ];

    it.each([Dialect.SdNext, Dialect.A1111])(
      'should give back names that %s resolves to the right file, and the same weights',
      (dialect) => {
        const input: CompositionInput = {
          adapters: [
            { id: 'dots', weight: 0.1 + 0.2 },
            { id: 'uni', weight: 0.75, unet: 0.5 },
            { id: 'dup1', weight: 1 },
            { id: 'dup2', weight: 0.4, te: 0.2 },
            { id: 'neg', weight: -1.25 },
            { id: 'alias' },
          ],
          prefix: 'portrait',
          dialect,
          triggerWords: TriggerWordPolicy.Chosen,
        };
        const composed = composePrompt(input, tricky);
        expect(composed.warnings).toEqual([]);
        const parsed = parsePrompt(composed.prompt, dialect);
        expect(parsed.warnings).toEqual([]);
        expect(parsed.text).toBe('portrait, dotted, アリス');

        const table = new LoraNameTable(dialect, tricky);
        const back = parsed.tokens.map((tag) => {
          const files = table.lookup(tag.name);
          expect(files).toHaveLength(1);
          expect(namesAcceptedBy(dialect, files[0]).has(tag.name)).toBe(true);
          return { id: files[0].id, te: tag.te, unet: tag.unet };
        });
        expect(back).toEqual(composed.adapters.map(({ id, te, unet }) => ({ id, te, unet })));
      },
    );
  });
});
