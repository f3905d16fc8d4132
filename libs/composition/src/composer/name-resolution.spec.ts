import { describe, it, expect } from '@jest/globals';
import type { ComposableAdapter } from './composable-adapter.js';
import { Dialect } from './dialect.js';
import {
  LoraNameTable,
  NameForm,
  fileStem,
  namesAcceptedBy,
  resolveTokenNames,
  splitExtension,
  tokenNameProblem,
} from './name-resolution.js';

let seq = 0;
function lora(relativePath: string, extra: Partial<ComposableAdapter> = {}): ComposableAdapter {
  seq += 1;
  return {
    id: `id-${seq}`,
    name: relativePath,
    rootId: 'root',
    relativePath,
    trainedWords: [],
    triggerWords: [],
    ...extra,
  };
}

function resolveOne(dialect: Dialect, target: ComposableAdapter, others: ComposableAdapter[] = []) {
  const resolved = resolveTokenNames([target, ...others], dialect).get(target.id);
  if (!resolved) throw new Error('not resolved');
  return resolved;
}

describe('splitExtension', () => {
  it('should split like Python os.path.splitext', () => {
    expect(splitExtension('my.lora.v2.safetensors')).toEqual({ stem: 'my.lora.v2', ext: '.safetensors' });
    expect(splitExtension('dir.v1/file')).toEqual({ stem: 'dir.v1/file', ext: '' });
    expect(splitExtension('.safetensors')).toEqual({ stem: '.safetensors', ext: '' });
    expect(splitExtension('..a.pt')).toEqual({ stem: '..a', ext: '.pt' });
  });
});

describe('fileStem', () => {
  it('should drop folders and the extension', () => {
    expect(fileStem('characters/alice.v1.safetensors')).toBe('alice.v1');
    expect(fileStem('./x.safetensors')).toBe('x');
  });
});

describe('namesAcceptedBy', () => {
  it('should list the mangled stem, the relative path and the natural stem for SD.Next', () => {
    expect(
      namesAcceptedBy(Dialect.SdNext, { relativePath: 'styles/my.lora.v2.safetensors', ssOutputName: 'alias' }),
    ).toEqual(new Set(['my_lora_v2', 'styles/my.lora.v2', 'my.lora.v2']));
  });

  it('should list the stem and the ss_output_name alias for A1111', () => {
    expect(
      namesAcceptedBy(Dialect.A1111, { relativePath: 'styles/my.lora.safetensors', ssOutputName: 'mine' }),
    ).toEqual(new Set(['my.lora', 'mine']));
    expect(namesAcceptedBy(Dialect.A1111, { relativePath: 'x.safetensors', ssOutputName: '' })).toEqual(new Set(['x']));
  });
});

describe('tokenNameProblem', () => {
  it.each(['a:b', 'a>b', 'a=b'])('should reject %s', (name) => {
    expect(tokenNameProblem(name)).not.toBeNull();
  });

  it.each(['a=b=c', 'アリス スタイル', 'my style', 'a<b', 'ünïcode_v1.5'])('should accept %s', (name) => {
    expect(tokenNameProblem(name)).toBeNull();
  });
});

describe('resolveTokenNames', () => {
  it('should mangle dots for SD.Next and keep them for A1111', () => {
    const a = lora('my.lora.v2.safetensors');
    expect(resolveOne(Dialect.SdNext, a)).toEqual({
      name: 'my_lora_v2',
      form: NameForm.Stem,
      ambiguous: false,
      usable: true,
      warnings: [],
    });
    expect(resolveOne(Dialect.A1111, a).name).toBe('my.lora.v2');
  });

  it('should keep unicode and spaces', () => {
    const a = lora('キャラ/アリス スタイル.safetensors');
    expect(resolveOne(Dialect.SdNext, a).name).toBe('アリス スタイル');
    expect(resolveOne(Dialect.A1111, a).name).toBe('アリス スタイル');
  });

  it('should use the relative path on SD.Next when two folders hold the same stem', () => {
    const alice = lora('characters/alice.safetensors');
    const other = lora('styles/alice.safetensors');
    const resolved = resolveOne(Dialect.SdNext, alice, [other]);
    expect(resolved).toMatchObject({ name: 'characters/alice', form: NameForm.RelativePath, ambiguous: false });
  });

  it('should use the relative path when stems collide only after mangling', () => {
    const dotted = lora('a.b.safetensors');
    const underscored = lora('a_b.safetensors');
    expect(resolveOne(Dialect.SdNext, dotted, [underscored]).name).toBe('a.b');
    expect(resolveOne(Dialect.SdNext, underscored, [dotted])).toMatchObject({ name: 'a_b', ambiguous: true });
  });

  it('should report a root file whose stem a subfolder file shares as ambiguous on SD.Next', () => {
    const atRoot = lora('alice.safetensors');
    const nested = lora('old/alice.safetensors');
    const resolved = resolveOne(Dialect.SdNext, atRoot, [nested]);
    expect(resolved.ambiguous).toBe(true);
    expect(resolved.warnings[0]).toContain('old/alice.safetensors');
    expect(resolveOne(Dialect.SdNext, nested, [atRoot]).name).toBe('old/alice');
  });

  it('should warn on A1111 for a duplicate stem without an alias', () => {
    const alice = lora('characters/alice.safetensors');
    const other = lora('styles/alice.safetensors');
    const resolved = resolveOne(Dialect.A1111, alice, [other]);
    expect(resolved).toMatchObject({ name: 'alice', ambiguous: true, usable: true });
    expect(resolved.warnings[0]).toContain('no subfolder form');
  });

  it('should use a unique ss_output_name alias on A1111 when the stem is duplicated', () => {
    const alice = lora('characters/alice.safetensors', { ssOutputName: 'alice_character' });
    const other = lora('styles/alice.safetensors');
    expect(resolveOne(Dialect.A1111, alice, [other])).toMatchObject({ name: 'alice_character', form: NameForm.Alias });
  });

  it('should not use an A1111 alias that another file also carries', () => {
    const alice = lora('characters/alice.safetensors', { ssOutputName: 'shared' });
    const alice2 = lora('styles/alice.safetensors', { ssOutputName: 'shared' });
    expect(resolveOne(Dialect.A1111, alice, [alice2]).ambiguous).toBe(true);
  });

  it('should not use an A1111 alias equal to another stem ignoring case', () => {
    const alice = lora('characters/alice.safetensors', { ssOutputName: 'Bob' });
    const alice2 = lora('styles/alice.safetensors');
    const bob = lora('bob.safetensors');
    expect(resolveOne(Dialect.A1111, alice, [alice2, bob]).ambiguous).toBe(true);
  });

  it('should never use ss_output_name on SD.Next', () => {
    const a = lora('x/a.safetensors', { ssOutputName: 'fancy' });
    const b = lora('y/a.safetensors');
    expect(resolveOne(Dialect.SdNext, a, [b]).name).toBe('x/a');
  });

  it('should mark names with a colon as unusable', () => {
    const a = lora('weird:name.safetensors');
    const resolved = resolveOne(Dialect.SdNext, a);
    expect(resolved.usable).toBe(false);
    expect(resolved.warnings[0]).toContain("':'");
  });

  it('should rescue an illegal A1111 stem with a legal unique alias', () => {
    const a = lora('weird:name.safetensors', { ssOutputName: 'weird_name' });
    expect(resolveOne(Dialect.A1111, a)).toMatchObject({ name: 'weird_name', usable: true, ambiguous: false });
  });

  it('should treat copies with the same sha256 as one file', () => {
    const a = lora('a/x.safetensors', { sha256: 'ABC' });
    const b = lora('b/x.safetensors', { sha256: 'abc' });
    expect(resolveOne(Dialect.A1111, a, [b])).toMatchObject({ name: 'x', ambiguous: false });
  });

  it('should ignore tombstoned files when looking for collisions', () => {
    const a = lora('a/x.safetensors');
    const gone = lora('b/x.safetensors', { missingSince: '2025-01-01T00:00:00Z' });
    expect(resolveOne(Dialect.SdNext, a, [gone])).toMatchObject({ name: 'x', ambiguous: false });
  });

  it('should check collisions across library roots', () => {
    const a = lora('x.safetensors', { rootId: 'r1' });
    const b = lora('x.safetensors', { rootId: 'r2' });
    expect(resolveOne(Dialect.SdNext, a, [b]).ambiguous).toBe(true);
  });

  it('should resolve only the requested ids', () => {
    const a = lora('a.safetensors');
    const b = lora('b.safetensors');
    expect([...resolveTokenNames([a, b], Dialect.SdNext, [b.id]).keys()]).toEqual([b.id]);
  });
});

describe('LoraNameTable', () => {
  it('should let an assigned key win over a natural stem on SD.Next', () => {
    const root = { relativePath: 'my.lora.safetensors' };
    const nested = { relativePath: 'sub/my.lora.safetensors' };
    const table = new LoraNameTable(Dialect.SdNext, [nested, root]);
    expect(table.lookup('my.lora')).toEqual([root]);
    expect(table.lookup('my_lora')).toEqual([nested, root]);
    expect(table.lookup('sub/my.lora')).toEqual([nested]);
    expect(table.lookup('My_lora')).toEqual([]);
  });

  it('should resolve A1111 aliases only when unique', () => {
    const a = { relativePath: 'a.safetensors', ssOutputName: 'style' };
    const b = { relativePath: 'b.safetensors', ssOutputName: 'none' };
    const table = new LoraNameTable(Dialect.A1111, [a, b]);
    expect(table.lookup('style')).toEqual([a]);
    expect(table.lookup('a')).toEqual([a]);
    expect(table.lookup('none')).toEqual([]);
  });
});
