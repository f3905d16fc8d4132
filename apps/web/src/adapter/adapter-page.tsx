import { Link, useNavigate, useParams } from 'react-router';
import { toProblem } from '../api/client';
import type { AdapterDto } from '../api/generated/types.gen';

type AdapterUserField = AdapterDto['userEdited'][number];
import { AdapterPreview } from '../components/adapter-preview';
import { CopyButton } from '../components/copy-button';
import { formatBytes, formatTime, nsfwLabel } from '../components/format';
import { QueryState } from '../components/query-state';
import { RecommendationList } from '../components/recommendation-list';
import { useSimilarAdapters } from '../components/use-recommendations';
import { composerUrlWith } from '../composer/composer-state';
import { useAllowed } from '../session/use-session';
import { AdapterEditForm } from './adapter-edit-form';
import { CivitaiPanel } from './civitai-panel';
import { ExampleImages } from './example-images';
import { useAdapter, useDuplicatesOf, useRemoveAdapter } from './use-adapter';

const HASHES = ['sha256', 'autoV1', 'autoV2', 'autoV3', 'blake3', 'crc32'] as const;

/** Fact rows: value and where it came from (the user's edit, or the file and its sidecars). */
function facts(a: AdapterDto): { label: string; value: string; field?: AdapterUserField }[] {
  return [
    { label: 'Name', value: a.name, field: 'name' },
    { label: 'Version', value: a.versionName ?? '—' },
    {
      label: 'Base model',
      value: a.baseModel + (a.baseModelRaw && a.baseModelRaw !== a.baseModel ? ` (file says ${a.baseModelRaw})` : ''),
      field: 'baseModel',
    },
    { label: 'Type', value: a.modelType },
    { label: 'Creator', value: a.creator ?? '—' },
    { label: 'Trained words', value: a.trainedWords.join(', ') || '—' },
    { label: 'Trigger words', value: a.triggerWords.join(', ') || '—', field: 'triggerWords' },
    { label: 'Activation text', value: a.activationText ?? '—' },
    { label: 'Tags', value: a.tags.join(', ') || '—', field: 'tags' },
    {
      label: 'Preferred weight',
      value: a.preferredWeight === null ? '—' : String(a.preferredWeight),
      field: 'preferredWeight',
    },
    { label: 'Weight range', value: `${a.weightMin ?? '—'} … ${a.weightMax ?? '—'}` },
    { label: 'NSFW', value: `${nsfwLabel(a.nsfwMax)} (level ${a.nsfwLevel})`, field: 'nsfwOverride' },
    { label: 'Downloads / likes / rating', value: `${a.downloads} / ${a.likes} / ${a.rating ?? '—'}` },
    { label: 'File', value: `${a.rootId}:${a.relativePath} (${formatBytes(a.fileSize)})` },
    { label: 'Published', value: formatTime(a.publishedAt) },
    { label: 'Last read', value: formatTime(a.lastIngestedAt) },
  ];
}

function CivitaiLinks({ adapter }: { adapter: AdapterDto }) {
  if (!adapter.civitaiModelId) return <span className="muted">No Civitai ids</span>;
  const version = adapter.civitaiVersionId ? `?modelVersionId=${adapter.civitaiVersionId}` : '';
  return (
    <a
      href={`https://civitai.com/models/${adapter.civitaiModelId}${version}`}
      target="_blank"
      rel="noreferrer noopener"
    >
      Civitai model {adapter.civitaiModelId}
      {adapter.civitaiVersionId ? `, version ${adapter.civitaiVersionId}` : ''}
    </a>
  );
}

function SimilarPanel({ adapter }: { adapter: AdapterDto }) {
  const similar = useSimilarAdapters(adapter.id);
  return (
    <section className="panel" aria-labelledby="similar-h">
      <h2 id="similar-h">Similar</h2>
      <QueryState query={similar} />
      {similar.data?.items.length === 0 && <p className="muted">Nothing alike in the library yet.</p>}
      {similar.data && (
        <RecommendationList items={similar.data.items} context={{ kind: 'similar', sourceAdapterId: adapter.id }} />
      )}
    </section>
  );
}

function AdapterDetail({ adapter }: { adapter: AdapterDto }) {
  const duplicates = useDuplicatesOf(adapter.id);
  const remove = useRemoveAdapter();
  const canDelete = useAllowed('editor');
  const navigate = useNavigate();
  const edited = new Set(adapter.userEdited);
  return (
    <section className="page adapter-page">
      <div className="row">
        <h1>{adapter.name}</h1>
        {adapter.missingSince && (
          <span className="badge bad">file missing since {formatTime(adapter.missingSince)}</span>
        )}
      </div>
      <div className="row">
        <Link className="button-link" to={composerUrlWith([adapter.id])}>
          Add to composer
        </Link>
        <CivitaiLinks adapter={adapter} />
        <button
          type="button"
          disabled={!canDelete}
          title={canDelete ? undefined : 'Deleting needs the editor role'}
          onClick={() => {
            if (window.confirm('Delete this record? The file stays on disk; a later import may add it again.')) {
              remove.mutate({ path: { id: adapter.id } }, { onSuccess: () => void navigate('/library') });
            }
          }}
        >
          Delete record
        </button>
        {remove.error && (
          <span role="alert" className="error-text">
            {toProblem(remove.error).message}
          </span>
        )}
      </div>
      <div className="adapter-layout">
        <div className="adapter-main">
          <div className="panel">
            <AdapterPreview adapter={adapter} size={320} thumbnail={768} className="large" />
          </div>
          {adapter.warnings.length > 0 && (
            <section className="panel" aria-labelledby="warnings-h">
              <h2 id="warnings-h">Warnings</h2>
              <ul>
                {adapter.warnings.map((w) => (
                  <li key={w} className="warn-text">
                    {w}
                  </li>
                ))}
              </ul>
            </section>
          )}
          <CivitaiPanel adapter={adapter} />
          <section className="panel" aria-labelledby="facts-h">
            <h2 id="facts-h">Facts</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">Fact</th>
                  <th scope="col">Value</th>
                  <th scope="col">Source</th>
                </tr>
              </thead>
              <tbody>
                {facts(adapter).map((f) => (
                  <tr key={f.label}>
                    <th scope="row">{f.label}</th>
                    <td>{f.value}</td>
                    <td>
                      {f.field && edited.has(f.field) ? (
                        <span className="badge">you</span>
                      ) : (
                        <span className="muted">file / sidecars</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section className="panel" aria-labelledby="hashes-h">
            <h2 id="hashes-h">Hashes</h2>
            <table>
              <tbody>
                {HASHES.map((h) => (
                  <tr key={h}>
                    <th scope="row">{h}</th>
                    <td className="mono">
                      {adapter[h] ?? '—'}
                      {h === 'sha256' && adapter.sha256 && !adapter.sha256Verified && (
                        <span className="muted"> (sidecar's claim)</span>
                      )}
                    </td>
                    <td>{adapter[h] && <CopyButton text={adapter[h]} label={`Copy ${h}`} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <ExampleImages adapter={adapter} />
          {!adapter.missingSince && <SimilarPanel adapter={adapter} />}
          <section className="panel" aria-labelledby="dup-h">
            <h2 id="dup-h">Duplicates of this file</h2>
            <QueryState query={duplicates} />
            {duplicates.data?.length === 0 && <p className="muted">No other copy in the library.</p>}
            <ul>
              {duplicates.data?.map((d) => (
                <li key={d.id}>
                  <Link to={`/adapters/${d.id}`}>{d.name}</Link>{' '}
                  <span className="muted">
                    {d.rootId}:{d.relativePath}
                  </span>
                </li>
              ))}
            </ul>
          </section>
          <section className="panel" aria-labelledby="sources-h">
            <h2 id="sources-h">Sources</h2>
            <h3>Sidecars</h3>
            {adapter.sidecars.length === 0 ? (
              <p className="muted">No sidecar files.</p>
            ) : (
              <ul>
                {adapter.sidecars.map((s, i) => (
                  <li key={i} className="mono">
                    {String(s.kind)}: {String(s.fileName)}
                  </li>
                ))}
              </ul>
            )}
            <details>
              <summary>Header metadata ({Object.keys(adapter.headerMetadata).length} keys)</summary>
              <dl className="kv">
                {Object.entries(adapter.headerMetadata).map(([k, v]) => (
                  <div key={k}>
                    <dt className="mono">{k}</dt>
                    <dd className="mono">{v.length > 400 ? `${v.slice(0, 400)}…` : v}</dd>
                  </div>
                ))}
              </dl>
            </details>
            {adapter.description && (
              <details>
                <summary>Description</summary>
                <p className="pre-wrap">{adapter.description.replace(/<[^>]+>/g, ' ')}</p>
              </details>
            )}
          </section>
        </div>
        <AdapterEditForm key={adapter.id} adapter={adapter} />
      </div>
    </section>
  );
}

export function AdapterPage() {
  const { id = '' } = useParams();
  const adapter = useAdapter(id);
  if (!adapter.data) return <QueryState query={adapter} label="adapter" />;
  return <AdapterDetail adapter={adapter.data} />;
}
