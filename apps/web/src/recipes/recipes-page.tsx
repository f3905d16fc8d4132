import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { toProblem } from '../api/client';
import {
  recipesComposeMutation,
  recipesDeleteMutation,
  recipesFromImageMutation,
  recipesGenerateMutation,
  recipesGetOptions,
  recipesGetQueryKey,
  recipesListOptions,
  recipesParseImageMutation,
  recipesPatchMutation,
} from '../api/generated/@tanstack/react-query.gen';
import type { RecipeDto, RecipeLoraDto, RecipeLoraInputDto, RecipePreviewDto } from '../api/generated/types.gen';
import { CopyButton } from '../components/copy-button';
import { formatTime } from '../components/format';
import { QueryState } from '../components/query-state';
import { useDebounced } from '../components/use-debounced';
import { useAllowed } from '../session/use-session';

const PAGE = 50;
const UPLOAD_TYPES = ['image/png', 'image/jpeg', 'image/webp'];

/** The file's own type when the API takes it, else octet-stream (the API reads the format from the bytes). */
const uploadHeaders = (f: File) => ({
  'Content-Type': UPLOAD_TYPES.includes(f.type) ? f.type : 'application/octet-stream',
});

function useInvalidateRecipes() {
  const queries = useQueryClient();
  return () => queries.invalidateQueries({ queryKey: [{ _id: 'recipesList' }] });
}

function LoraList({ loras, label }: { loras: RecipeLoraDto[]; label: string }) {
  if (loras.length === 0) return <p className="small muted">No LoRA.</p>;
  return (
    <ul className="plain" aria-label={label}>
      {loras.map((l, i) => (
        <li key={`${l.name}-${i}`} className="row small">
          {l.adapterId ? <Link to={`/adapters/${l.adapterId}`}>{l.adapterName ?? l.name}</Link> : <span>{l.name}</span>}
          <span className="mono">{l.weight}</span>
          <span className={`badge ${l.adapterId ? 'ok' : 'bad'}`}>
            {l.adapterId ? `in library (${l.match})` : l.match === 'ambiguous' ? 'ambiguous name' : 'missing'}
          </span>
          {!l.adapterId && (l.hash ?? l.sha256) && <span className="mono muted">hash {l.hash ?? l.sha256}</span>}
        </li>
      ))}
    </ul>
  );
}

/** Drop an image (or pick one): its metadata is previewed, then saved as a recipe. */
function ImageImport({ onSaved }: { onSaved: (id: string) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<RecipePreviewDto | null>(null);
  const [name, setName] = useState('');
  const parse = useMutation({
    ...recipesParseImageMutation(),
    onSuccess: (data) => {
      setPreview(data);
      setName(data.name);
    },
  });
  const invalidate = useInvalidateRecipes();
  const save = useMutation({
    ...recipesFromImageMutation(),
    onSuccess: (data) => {
      void invalidate();
      setFile(null);
      setPreview(null);
      onSaved(data.id);
    },
  });
  const canSave = useAllowed('editor');
  const take = (f: File | undefined) => {
    if (!f) return;
    setFile(f);
    setPreview(null);
    parse.mutate({ body: f, headers: uploadHeaders(f) });
  };
  const problem = parse.error ? toProblem(parse.error) : save.error ? toProblem(save.error) : null;
  return (
    <section className="panel" aria-labelledby="import-h">
      <h2 id="import-h">From an image</h2>
      <label
        className="drop-zone"
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => {
          e.preventDefault();
          take(e.dataTransfer.files[0]);
        }}
      >
        Drop a PNG, JPEG or WebP made by A1111, SD.Next or ComfyUI here, or choose one:{' '}
        <input
          type="file"
          accept="image/png,image/jpeg,image/webp"
          aria-label="Image to read"
          onChange={(e) => take(e.target.files?.[0])}
        />
      </label>
      {parse.isPending && <p>Reading…</p>}
      {problem && (
        <p role="alert" className="error-text">
          {problem.message}
        </p>
      )}
      {preview && file && (
        <div aria-label="Preview">
          <p className="small muted">
            {preview.image.format.toUpperCase()} {preview.image.width}×{preview.image.height} · {preview.origin}
          </p>
          {preview.warnings.map((w) => (
            <p key={w.code} className="small error-text">
              {w.message}
            </p>
          ))}
          <p className="small prompt-line">{preview.prompt || <em>no prompt</em>}</p>
          <LoraList loras={preview.loras} label="LoRAs found" />
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              save.mutate({ body: file, headers: uploadHeaders(file), query: { name: name || undefined } });
            }}
          >
            <label>
              Name <input value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
            </label>
            <button type="submit" disabled={!canSave || save.isPending}>
              Save recipe
            </button>
          </form>
        </div>
      )}
    </section>
  );
}

/** What PATCH takes back for a LoRA the recipe has: its id, name and hashes as stored, so it relinks the same way. */
const loraInput = (l: RecipeLoraDto): RecipeLoraInputDto => ({
  adapterId: l.adapterId,
  ...(l.name ? { name: l.name } : {}),
  weight: l.weight,
  sha256: l.sha256,
  autov2: l.autov2,
  hash: l.hash,
});

/** The recipe's LoRAs as an editable list: weights, remove, add by token name; saved in one PATCH. */
function LoraEditor({ recipe }: { recipe: RecipeDto }) {
  const [rows, setRows] = useState<RecipeLoraInputDto[]>(() => recipe.loras.map(loraInput));
  const [name, setName] = useState('');
  const [weight, setWeight] = useState('1');
  const queries = useQueryClient();
  const invalidate = useInvalidateRecipes();
  const save = useMutation({
    ...recipesPatchMutation(),
    onSuccess: (data) => {
      queries.setQueryData(recipesGetQueryKey({ path: { id: recipe.id } }), data);
      void invalidate();
    },
  });
  const setRow = (index: number, change: Partial<RecipeLoraInputDto> | null) =>
    setRows(change ? rows.map((r, i) => (i === index ? { ...r, ...change } : r)) : rows.filter((_, i) => i !== index));
  const added = Number(weight);
  const canAdd = name.trim() !== '' && weight.trim() !== '' && Number.isFinite(added);
  return (
    <form
      aria-label="Edit LoRAs"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({ path: { id: recipe.id }, body: { loras: rows } });
      }}
    >
      <ul className="plain">
        {rows.map((l, i) => (
          <li key={`${l.adapterId ?? l.name}-${i}`} className="row small">
            <span>{recipe.loras.find((r) => r.adapterId && r.adapterId === l.adapterId)?.adapterName ?? l.name}</span>
            <input
              type="number"
              step="0.05"
              min={-10}
              max={10}
              aria-label={`Weight of ${l.name ?? 'LoRA'}`}
              value={l.weight}
              onChange={(e) => setRow(i, { weight: Number(e.target.value) })}
            />
            <button type="button" onClick={() => setRow(i, null)}>
              Remove {l.name}
            </button>
          </li>
        ))}
      </ul>
      <div className="row">
        <label>
          LoRA name <input value={name} onChange={(e) => setName(e.target.value)} maxLength={255} />
        </label>
        <label>
          Weight{' '}
          <input
            type="number"
            step="0.05"
            min={-10}
            max={10}
            value={weight}
            onChange={(e) => setWeight(e.target.value)}
          />
        </label>
        <button
          type="button"
          disabled={!canAdd}
          onClick={() => {
            setRows([...rows, { adapterId: null, name: name.trim(), weight: added }]);
            setName('');
          }}
        >
          Add LoRA
        </button>
        <button type="submit" disabled={save.isPending}>
          Save LoRAs
        </button>
      </div>
      {save.isSuccess && <p role="status">LoRAs saved.</p>}
      {save.error && (
        <p role="alert" className="error-text">
          {toProblem(save.error).message}
        </p>
      )}
    </form>
  );
}

function RecipeDetail({ id, onDeleted }: { id: string; onDeleted: () => void }) {
  const recipe = useQuery(recipesGetOptions({ path: { id } }));
  const compose = useMutation(recipesComposeMutation());
  const generate = useMutation(recipesGenerateMutation());
  const invalidate = useInvalidateRecipes();
  const remove = useMutation({
    ...recipesDeleteMutation(),
    onSuccess: () => {
      void invalidate();
      onDeleted();
    },
  });
  const [dialect, setDialect] = useState('sdnext');
  const canEdit = useAllowed('editor');
  const r = recipe.data;
  const problem = compose.error ?? generate.error ?? remove.error;
  return (
    <section className="panel" aria-labelledby="recipe-h">
      <QueryState query={recipe} />
      {r && (
        <>
          <h2 id="recipe-h">{r.name}</h2>
          {r.hasImage && <img src={`/api/v1/recipes/${r.id}/image`} alt="" width={256} loading="lazy" />}
          <p className="small prompt-line">{r.prompt}</p>
          {r.negativePrompt && <p className="small muted">Negative: {r.negativePrompt}</p>}
          <p className="small muted mono">
            {Object.entries(r.parameters)
              .map(([k, v]) => `${k} ${String(v)}`)
              .join(' · ')}
          </p>
          <LoraList loras={r.loras} label="Recipe LoRAs" />
          {canEdit && <LoraEditor recipe={r} />}
          <div className="row">
            <label>
              Dialect{' '}
              <select value={dialect} onChange={(e) => setDialect(e.target.value)}>
                <option value="sdnext">SD.Next</option>
                <option value="a1111">A1111</option>
              </select>
            </label>
            <button type="button" onClick={() => compose.mutate({ path: { id }, body: { dialect } })}>
              Compose
            </button>
            <button
              type="button"
              disabled={!canEdit || generate.isPending}
              onClick={() => generate.mutate({ path: { id }, body: { dialect } })}
            >
              Generate
            </button>
            <button
              type="button"
              disabled={!canEdit}
              onClick={() => {
                if (window.confirm('Delete this recipe?')) remove.mutate({ path: { id } });
              }}
            >
              Delete
            </button>
          </div>
          {compose.data && (
            <div aria-label="Composed prompt">
              <pre className="mono">{compose.data.composition.prompt}</pre>
              <CopyButton text={compose.data.composition.prompt} label="Copy prompt" />
            </div>
          )}
          {generate.data && (
            <p role="status">
              Generation queued: <Link to="/history">job {generate.data.job.id.slice(0, 8)}</Link> (
              {generate.data.job.status})
            </p>
          )}
          {problem && (
            <p role="alert" className="error-text">
              {toProblem(problem).message}
            </p>
          )}
          <p className="small muted">
            {r.source} · {formatTime(r.createdAt)}
          </p>
        </>
      )}
    </section>
  );
}

/** Recipes: search and list (text, `?tag=`), one open recipe (`?id=`), and a drop zone that makes one from an image. */
export function RecipesPage() {
  const [params, setParams] = useSearchParams();
  const [text, setText] = useState(params.get('q') ?? '');
  const q = useDebounced(text, 250);
  const open = params.get('id');
  const tag = params.get('tag');
  const list = useQuery({
    ...recipesListOptions({ query: { limit: PAGE, q: q || undefined, tag: tag ?? undefined } }),
    placeholderData: keepPreviousData,
  });
  const setParam = (name: 'id' | 'tag', value: string | null) => {
    const copy = new URLSearchParams(params);
    if (value) copy.set(name, value);
    else copy.delete(name);
    setParams(copy);
  };
  const select = (id: string | null) => setParam('id', id);
  return (
    <section className="page">
      <h1>Recipes</h1>
      <ImageImport onSaved={select} />
      <label className="row">
        Search{' '}
        <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="name or prompt" />
      </label>
      {tag && (
        <p className="row">
          Tag <span className="badge">{tag}</span>
          <button type="button" onClick={() => setParam('tag', null)}>
            Any tag
          </button>
        </p>
      )}
      <QueryState query={list} />
      {list.data && list.data.items.length === 0 && (
        <p>No recipe yet. Drop an image above, or save one from History.</p>
      )}
      <ul className="plain" aria-label="Recipes">
        {list.data?.items.map((r) => (
          <li key={r.id} className="row">
            <button type="button" className="link-button" aria-current={open === r.id} onClick={() => select(r.id)}>
              {r.name}
            </button>
            <span className="small muted">
              {r.mappedCount}/{r.loraCount} LoRAs in library
            </span>
            {r.tags.map((t) => (
              <button
                key={t}
                type="button"
                className="badge"
                aria-pressed={t === tag}
                title={`Only recipes tagged ${t}`}
                onClick={() => setParam('tag', t === tag ? null : t)}
              >
                {t}
              </button>
            ))}
          </li>
        ))}
      </ul>
      {list.data && list.data.total > list.data.items.length && (
        <p className="small muted">
          {list.data.items.length} of {list.data.total} shown; narrow the search.
        </p>
      )}
      {open && <RecipeDetail key={open} id={open} onDeleted={() => select(null)} />}
    </section>
  );
}
