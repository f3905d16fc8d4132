import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { fieldMessage, toProblem } from '../api/client';
import { adaptersBaseModelsOptions, generationBackendsOptions } from '../api/generated/@tanstack/react-query.gen';
import type { AdapterDto } from '../api/generated/types.gen';
import { CopyButton } from '../components/copy-button';
import { QueryState } from '../components/query-state';
import { RecommendationList } from '../components/recommendation-list';
import { usePromptSuggestions } from '../components/use-recommendations';
import { RoleNote } from '../session/role-note';
import { type ComposerState, type PickedAdapter, addPicks, removePick, updatePick } from './composer-state';
import { useAdapterSearch, useComposerState, useComposition, usePickedAdapters } from './use-composer';

function Slider({
  id,
  label,
  value,
  onChange,
}: {
  id: string;
  label: string;
  value: number;
  onChange: (v: number) => void;
}) {
  return (
    <div className="slider">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="range"
        min={-2}
        max={2}
        step={0.05}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
      />
      <input
        type="number"
        aria-label={`${label} value`}
        min={-10}
        max={10}
        step={0.05}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
      />
    </div>
  );
}

function PickRow({
  pick,
  adapter,
  state,
  setState,
  error,
}: {
  pick: PickedAdapter;
  adapter: AdapterDto | undefined;
  state: ComposerState;
  setState: (s: ComposerState) => void;
  error?: string;
}) {
  const name = adapter?.name ?? pick.id;
  const weight = pick.weight ?? adapter?.preferredWeight ?? 1;
  const split = pick.te !== undefined || pick.unet !== undefined;
  const set = (patch: Partial<PickedAdapter>) => setState(updatePick(state, pick.id, patch));
  return (
    <li className="panel pick" aria-label={name}>
      <div className="row">
        <Link to={`/adapters/${pick.id}`}>
          <strong>{name}</strong>
        </Link>
        <span className="muted">{adapter ? `${adapter.baseModel} · ${adapter.triggerWords.join(', ')}` : ''}</span>
        <button type="button" onClick={() => setState(removePick(state, pick.id))} aria-label={`Remove ${name}`}>
          Remove
        </button>
      </div>
      <Slider id={`w-${pick.id}`} label={`Weight of ${name}`} value={weight} onChange={(v) => set({ weight: v })} />
      <label>
        <input
          type="checkbox"
          checked={split}
          onChange={(e) => set(e.target.checked ? { te: weight, unet: weight } : { te: undefined, unet: undefined })}
        />{' '}
        Separate text-encoder / UNet strengths
      </label>
      {split && (
        <>
          <Slider
            id={`te-${pick.id}`}
            label={`TE of ${name}`}
            value={pick.te ?? weight}
            onChange={(v) => set({ te: v })}
          />
          <Slider
            id={`unet-${pick.id}`}
            label={`UNet of ${name}`}
            value={pick.unet ?? weight}
            onChange={(v) => set({ unet: v })}
          />
        </>
      )}
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </li>
  );
}

/** Adapters whose trigger words, tags and descriptions the typed prompt uses. */
function PromptSuggestions({ state, setState }: { state: ComposerState; setState: (s: ComposerState) => void }) {
  const prompt = `${state.prefix} ${state.suffix}`.trim();
  const suggestions = usePromptSuggestions(prompt, state.checkpointBaseModel);
  if (prompt === '') return null;
  return (
    <section className="panel" aria-labelledby="suggest-h">
      <h2 id="suggest-h">Suggestions for your prompt</h2>
      <QueryState query={suggestions} />
      {suggestions.data?.items.length === 0 && <p className="muted">No adapter matches these words.</p>}
      {suggestions.data && (
        <RecommendationList
          items={suggestions.data.items}
          context={{ kind: 'prompt', prompt }}
          action={(item) => {
            const added = state.adapters.some((p) => p.id === item.adapter.id);
            return (
              <button
                type="button"
                disabled={added}
                onClick={() => setState(addPicks(state, [item.adapter.id]))}
                aria-label={`${added ? 'Added' : 'Add'} suggested ${item.adapter.name}`}
              >
                {added ? 'Added' : 'Add'}
              </button>
            );
          }}
        />
      )}
    </section>
  );
}

export function ComposerPage() {
  const [state, setState] = useComposerState();
  const [search, setSearch] = useState('');
  const found = useAdapterSearch(search);
  const picked = usePickedAdapters(state);
  const composition = useComposition(state);
  const baseModels = useQuery(adaptersBaseModelsOptions());
  const backends = useQuery(generationBackendsOptions());
  const navigate = useNavigate();
  const problem = composition.error ? toProblem(composition.error) : null;
  const result = composition.data;
  const text = (key: 'prefix' | 'suffix' | 'negative', label: string) => (
    <div className="field">
      <label htmlFor={`c-${key}`}>{label}</label>
      <textarea
        id={`c-${key}`}
        rows={2}
        value={state[key]}
        onChange={(e) => setState({ ...state, [key]: e.target.value })}
      />
      {fieldMessage(problem, key) && <span className="field-error">{fieldMessage(problem, key)}</span>}
    </div>
  );
  const send = (to: '/studio' | '/deliveries') => {
    if (!result) return;
    const params = new URLSearchParams({ prompt: result.prompt });
    if (result.negativePrompt) params.set('negative', result.negativePrompt);
    void navigate(`${to}?${params.toString()}`);
  };
  return (
    <section className="page">
      <h1>Composer</h1>
      <RoleNote need="editor" action="composing (POST /compose)" />
      <div className="composer-layout">
        <div className="adapter-main">
          <section className="panel" aria-labelledby="pick-h">
            <h2 id="pick-h">Pick adapters</h2>
            <label className="field">
              <span>Search the library</span>
              <input
                type="search"
                value={search}
                onChange={(e) => setSearch(e.target.value)}
                placeholder="name, trigger word, tag"
              />
            </label>
            <ul className="plain picker">
              {found.data?.items.map((a) => {
                const added = state.adapters.some((p) => p.id === a.id);
                return (
                  <li key={a.id} className="row">
                    <button
                      type="button"
                      disabled={added}
                      onClick={() => setState(addPicks(state, [a.id]))}
                      aria-label={`${added ? 'Added' : 'Add'} ${a.name}`}
                    >
                      {added ? 'Added' : 'Add'}
                    </button>
                    <span>{a.name}</span> <span className="muted small">{a.baseModel}</span>
                  </li>
                );
              })}
            </ul>
          </section>
          <section aria-labelledby="picked-h">
            <h2 id="picked-h">In this composition ({state.adapters.length})</h2>
            {state.adapters.length === 0 && (
              <p className="muted">Add adapters from the search above or from the library.</p>
            )}
            <ul className="plain">
              {state.adapters.map((pick, i) => (
                <PickRow
                  key={pick.id}
                  pick={pick}
                  adapter={picked[i]}
                  state={state}
                  setState={setState}
                  error={fieldMessage(problem, `adapters[${i}]`)}
                />
              ))}
            </ul>
          </section>
          <section className="panel" aria-labelledby="opts-h">
            <h2 id="opts-h">Options</h2>
            <div className="row">
              <label>
                Dialect{' '}
                <select
                  value={state.dialect ?? ''}
                  onChange={(e) =>
                    setState({ ...state, dialect: (e.target.value || undefined) as ComposerState['dialect'] })
                  }
                >
                  <option value="">SD.Next (default)</option>
                  <option value="sdnext">SD.Next</option>
                  <option value="a1111">A1111</option>
                </select>
              </label>
              <label>
                Trigger words{' '}
                <select
                  value={state.triggerWords ?? ''}
                  onChange={(e) =>
                    setState({ ...state, triggerWords: (e.target.value || undefined) as ComposerState['triggerWords'] })
                  }
                >
                  <option value="">Chosen, else trained (default)</option>
                  <option value="chosen">Chosen</option>
                  <option value="trained">Trained (Civitai)</option>
                  <option value="none">None</option>
                </select>
              </label>
              <label>
                Checkpoint base model{' '}
                <input
                  list="base-models"
                  value={state.checkpointBaseModel ?? ''}
                  onChange={(e) => setState({ ...state, checkpointBaseModel: e.target.value || undefined })}
                  size={12}
                />
                <datalist id="base-models">
                  {baseModels.data?.map((b) => (
                    <option key={b.value} value={b.value} />
                  ))}
                </datalist>
              </label>
              <label>
                Weight cap{' '}
                <input
                  type="number"
                  step={0.1}
                  min={0}
                  value={state.weightCap ?? ''}
                  onChange={(e) =>
                    setState({ ...state, weightCap: e.target.value === '' ? undefined : Number(e.target.value) })
                  }
                  size={5}
                />
              </label>
              <label>
                Check against{' '}
                <select
                  value={state.checkBackend ?? ''}
                  onChange={(e) => setState({ ...state, checkBackend: e.target.value || undefined })}
                >
                  <option value="">No backend</option>
                  {backends.data?.map((b) => (
                    <option key={b.id} value={b.id}>
                      {b.id}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            {text('prefix', 'Prompt before the tokens')}
            {text('suffix', 'Prompt after the tokens')}
            {text('negative', 'Negative prompt')}
          </section>
          <PromptSuggestions state={state} setState={setState} />
        </div>
        <section className="panel composed" aria-labelledby="out-h" aria-live="polite">
          <h2 id="out-h">Composed prompt</h2>
          {composition.isFetching && <span className="muted small">composing…</span>}
          {problem && (
            <p role="alert" className="error-text">
              {problem.message}
            </p>
          )}
          {result && (
            <>
              <pre className="prompt" data-testid="composed-prompt">
                {result.prompt}
              </pre>
              <div className="row">
                <CopyButton text={result.prompt} label="Copy prompt" />
                <button type="button" className="primary" onClick={() => send('/studio')}>
                  Send to studio
                </button>
                <button type="button" onClick={() => send('/deliveries')}>
                  Send to a delivery
                </button>
              </div>
              <h3>Negative prompt</h3>
              <pre className="prompt">{result.negativePrompt || '—'}</pre>
              {result.negativePrompt && <CopyButton text={result.negativePrompt} label="Copy negative prompt" />}
              <h3>Tokens</h3>
              <ul data-testid="composed-tokens">
                {result.tokens.map((t) => (
                  <li key={t} className="mono">
                    {t}
                  </li>
                ))}
              </ul>
              {result.warnings.length > 0 && (
                <>
                  <h3>Warnings</h3>
                  <ul>
                    {result.warnings.map((w, i) => (
                      <li key={i} className="warn-text">
                        {w.message}
                      </li>
                    ))}
                  </ul>
                </>
              )}
              {result.checkedAgainst && <p className="muted">Checked against {result.checkedAgainst}.</p>}
            </>
          )}
        </section>
      </div>
    </section>
  );
}
