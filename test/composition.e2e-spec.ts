import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { buildEdgeCaseCorpus, EDGE_CASES } from './support/corpus-builder.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { tempDir } from './support/test-services.js';

/** The `ss_output_name` the corpus builder writes into these files' headers (A1111 lists it as the alias). */
const HEADER_ALIASES: Record<string, Record<string, string>> = {
  [EDGE_CASES.good]: { ss_output_name: 'my_style_v1' },
  [EDGE_CASES.duplicateA]: { ss_output_name: 'dup' },
  [EDGE_CASES.duplicateB]: { ss_output_name: 'dup' },
};

interface Adapter {
  id: string;
  relativePath: string;
}

/**
 * Composes from an imported corpus with awkward names (dots, unicode, spaces, the same stem in two folders)
 * and sends the prompt to fake SD.Next and A1111 servers that resolve names by each server's own rules.
 */
describe('composition against the generators that resolve the tokens', () => {
  const dir = tempDir('compose');
  const root = join(dir.path, 'loras');
  const fakes: Record<'sdnext' | 'a1111', FakeSdNext | undefined> = { sdnext: undefined, a1111: undefined };
  let api: AppProcess;
  let ids: Record<string, string> = {};

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${api.baseUrl}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const manifest = await buildEdgeCaseCorpus(root);
    const loras = manifest.adapters
      .filter((a) => a.relPath !== EDGE_CASES.truncatedData)
      .map((a) => ({ relativePath: a.relPath, metadata: HEADER_ALIASES[a.relPath] }));
    fakes.sdnext = new FakeSdNext({ flavour: 'sdnext', stepMs: 0, loras });
    fakes.a1111 = new FakeSdNext({ flavour: 'a1111', stepMs: 0, loras });
    const urls = [await fakes.sdnext.start(), await fakes.a1111.start()];
    const port = await freePort();
    const env = { DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: root, SDNEXT_URL: urls.join(','), PORT: String(port) };
    expect((await runCli(['import'], env)).code).toBe(0);
    api = new AppProcess('api', env, port).start();
    await api.waitReady();
    const list = (await (await fetch(`${api.baseUrl}/api/v1/adapters?limit=100`)).json()) as { items: Adapter[] };
    ids = Object.fromEntries(list.items.map((a) => [a.relativePath, a.id]));
    expect(Object.keys(ids)).toHaveLength(11);
  });

  afterAll(async () => {
    await api?.stop();
    await fakes.sdnext?.stop();
    await fakes.a1111?.stop();
    dir.remove();
  });

  for (const [flavour, backendId] of [
    ['sdnext', 'sdnext-0'],
    ['a1111', 'sdnext-1'],
  ] as const) {
    it(`should compose tokens that ${flavour} resolves, every one of them`, async () => {
      const adapters = Object.values(ids).map((id) => ({ id, weight: 0.7 }));
      const res = await post('/generation/compose-and-generate', {
        compose: { adapters, triggerWords: 'none' },
        generation: { steps: 2, backend_id: backendId },
        queued: false,
      });
      expect(res.status).toBe(201);
      const composition = res.body.composition as {
        dialect: string;
        tokens: string[];
        warnings: { code: string; message: string }[];
      };
      expect(composition.dialect).toBe(flavour);
      const fake = fakes[flavour]!;
      const generation = fake.generations.at(-1)!;
      expect(generation.unresolved).toEqual([]);
      // The server loaded the very files we meant, the two same-named files included.
      for (const path of Object.keys(ids).filter((p) => !p.startsWith('stems/')))
        expect(generation.files).toContain(path);
      if (flavour === 'sdnext') {
        expect(generation.files).toContain(EDGE_CASES.sameStemA);
        expect(generation.files).toContain(EDGE_CASES.sameStemB);
      }
      if (flavour === 'a1111') {
        // A1111 has no folder form: two files named `same` cannot be told apart, and the composer says so.
        expect(composition.warnings.filter((w) => w.code === 'unresolved_name').length).toBeGreaterThanOrEqual(2);
      }
    });
  }

  it('should write SD.Next names for dotted, unicode and spaced file names, and the folder form for a shared stem', async () => {
    const res = await post('/compose', {
      adapters: [EDGE_CASES.dots, EDGE_CASES.unicode, EDGE_CASES.spaces, EDGE_CASES.sameStemA].map((p) => ({
        id: ids[p],
      })),
      triggerWords: 'none',
    });
    expect(res.status).toBe(200);
    expect(res.body.tokens).toEqual([
      '<lora:my_lora_v1_0:1>',
      '<lora:ünïcødé 名前 ✨:1>',
      '<lora:with spaces (1):1>',
      '<lora:stems/x/same:1>',
    ]);
  });

  it('should check tokens against the backend LoRA list when asked', async () => {
    const res = await post('/compose', {
      adapters: [{ id: ids[EDGE_CASES.good], weight: 0.8 }],
      checkBackend: 'sdnext-0',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ checkedAgainst: 'sdnext-0', tokens: ['<lora:my_style_v1:0.8>'] });
    const unknownBackend = await post('/compose', {
      adapters: [{ id: ids[EDGE_CASES.good] }],
      checkBackend: 'sdnext-9',
    });
    expect(unknownBackend.status).toBe(400);
    expect(unknownBackend.body).toMatchObject({ details: [{ field: 'checkBackend' }] });
  });

  it('should parse the tokens of a composed prompt back to the same names and weights', async () => {
    const composed = await post('/compose', {
      adapters: [
        { id: ids[EDGE_CASES.dots], weight: 0.35 },
        { id: ids[EDGE_CASES.good], weight: -0.5, te: 0.2 },
      ],
      prefix: 'a fox',
    });
    const parsed = await post('/compose/parse', { prompt: composed.body.prompt });
    expect(parsed.status).toBe(200);
    const tokens = parsed.body.tokens as { name: string; weight: number; te: number }[];
    expect(tokens.map((t) => [t.name, t.weight])).toEqual([
      ['my_lora_v1_0', 0.35],
      ['my_style_v1', -0.5],
    ]);
    expect(tokens[1].te).toBe(0.2);
  });

  it('should answer 400 naming the field for bad input', async () => {
    const cases: [unknown, string][] = [
      [{ adapters: [{ id: '00000000-0000-4000-8000-000000000000' }] }, 'adapters[0].id'],
      [{ adapters: [{ id: ids[EDGE_CASES.good], weight: 99 }] }, 'adapters.0.weight'],
      [{ adapters: [{ id: ids[EDGE_CASES.good] }], dialect: 'comfy' }, 'dialect'],
      [{ adapters: [{ id: 'nope' }] }, 'adapters.0.id'],
    ];
    for (const [body, field] of cases) {
      const res = await post('/compose', body);
      expect(res.status).toBe(400);
      const fields = (res.body.details as { field: string }[]).map((d) => d.field.replace(/\[(\d+)\]/g, '.$1'));
      expect(fields).toContain(field.replace(/\[(\d+)\]/g, '.$1'));
    }
  });
});
