import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import {
  activityListInfiniteOptions,
  analyticsAdaptersOptions,
  analyticsFailuresOptions,
  analyticsGenerationsOptions,
  analyticsSummaryOptions,
} from '../api/generated/@tanstack/react-query.gen';
import { QueryState } from '../components/query-state';
import { formatBytes, formatTime, nsfwLabel } from '../components/format';
import { GenerationChart } from './generation-chart';
import { SystemStatusPanel } from './system-status-panel';

const RANGES = { '24h': 1, '7d': 7, '30d': 30 } as const;
type RangeKey = keyof typeof RANGES;
const HOUR_MS = 3600_000;

/** The range in the URL (`?range=7d`), ending at the current hour so the query key stays put for an hour. */
function useRange(): { key: RangeKey; from: string; to: string; setKey: (key: RangeKey) => void } {
  const [params, setParams] = useSearchParams();
  const raw = params.get('range');
  const key: RangeKey = raw !== null && raw in RANGES ? (raw as RangeKey) : '7d';
  const [now] = useState(() => Date.now());
  const to = new Date(Math.ceil(now / HOUR_MS) * HOUR_MS);
  const from = new Date(to.getTime() - RANGES[key] * 24 * HOUR_MS);
  return {
    key,
    from: from.toISOString(),
    to: to.toISOString(),
    setKey: (next) => setParams({ range: next }, { replace: true }),
  };
}

export function DashboardPage() {
  const range = useRange();
  const query = { from: range.from, to: range.to };
  const summary = useQuery(analyticsSummaryOptions());
  const generations = useQuery(analyticsGenerationsOptions({ query }));
  const adapters = useQuery(analyticsAdaptersOptions({ query: { ...query, limit: 10 } }));
  const failures = useQuery(analyticsFailuresOptions({ query: { ...query, limit: 10 } }));
  const totals = summary.data?.totals;
  return (
    <section className="page">
      <h1>Dashboard</h1>
      <div className="cards-row" aria-label="Library totals">
        <Stat label="Adapters" value={totals?.files.toLocaleString()} to="/library" />
        <Stat label="On disk" value={totals && formatBytes(totals.bytesOnDisk)} to="/library" />
        <Stat label="Hashed" value={totals && `${totals.hashedPercent} %`} to="/library" />
        <Stat label="Civitai-linked" value={totals && `${totals.civitaiLinkedPercent} %`} to="/library" />
        <Stat label="With previews" value={totals?.withPreviews.toLocaleString()} to="/library" />
        <Stat label="With warnings" value={totals?.withWarnings.toLocaleString()} to="/library" />
        <Stat label="Missing files" value={totals?.tombstoned.toLocaleString()} to="/library?missing=true" />
      </div>
      <QueryState query={summary} />
      {summary.data && (
        <div className="columns">
          <Breakdown title="By base model" rows={summary.data.byBaseModel} />
          <Breakdown title="By type" rows={summary.data.byType} />
          <Breakdown
            title="By NSFW level"
            rows={summary.data.byNsfwLevel.map((r) => ({
              key: r.key === 0 ? 'none' : nsfwLabel(r.key),
              count: r.count,
            }))}
          />
        </div>
      )}

      <section aria-labelledby="generations-h" className="panel">
        <h2 id="generations-h">Generations</h2>
        <div role="group" aria-label="Range" className="button-row">
          {(Object.keys(RANGES) as RangeKey[]).map((key) => (
            <button key={key} type="button" aria-pressed={range.key === key} onClick={() => range.setKey(key)}>
              {key}
            </button>
          ))}
        </div>
        <QueryState query={generations} />
        {generations.data && (
          <>
            <GenerationChart series={generations.data.series} bucket={generations.data.bucket} />
            <table className="compact" aria-label="Generations by backend">
              <thead>
                <tr>
                  <th>backend</th>
                  <th>total</th>
                  <th>succeeded</th>
                  <th>failed</th>
                  <th>cancelled</th>
                  <th>mean</th>
                  <th>p95</th>
                </tr>
              </thead>
              <tbody>
                {generations.data.totals.map((t) => (
                  <tr key={t.backendId ?? '-'}>
                    <td>{t.backendId ?? 'never started'}</td>
                    <td>{t.count}</td>
                    <td>{t.succeeded}</td>
                    <td>{t.failed}</td>
                    <td>{t.cancelled}</td>
                    <td>{seconds(t.meanMs)}</td>
                    <td>{seconds(t.p95Ms)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </section>

      <div className="columns">
        <section aria-labelledby="top-adapters-h" className="panel">
          <h2 id="top-adapters-h">Most used adapters</h2>
          <QueryState query={adapters} />
          {adapters.data?.adapters.length === 0 && <p className="muted">No images with library adapters yet.</p>}
          <ol aria-label="Most used adapters">
            {adapters.data?.adapters.map((a) => (
              <li key={a.adapterId}>
                <Link to={`/adapters/${a.adapterId}`}>{a.name ?? '(deleted)'}</Link> · {a.images} images
              </li>
            ))}
          </ol>
          {adapters.data && adapters.data.pairs.length > 0 && (
            <>
              <h3>Used together</h3>
              <ol>
                {adapters.data.pairs.map((p) => (
                  <li key={p.adapters.map((a) => a.adapterId).join('+')}>
                    {p.adapters.map((a) => a.name ?? '(deleted)').join(' + ')} · {p.images} images
                  </li>
                ))}
              </ol>
            </>
          )}
        </section>
        <section aria-labelledby="failures-h" className="panel">
          <h2 id="failures-h">Failure reasons</h2>
          <QueryState query={failures} />
          {failures.data?.reasons.length === 0 && <p className="muted">No failures in this range.</p>}
          <ul className="plain" aria-label="Failure reasons">
            {failures.data?.reasons.map((r) => (
              <li key={`${r.source}:${r.reason}`} title={r.example}>
                <strong>{r.count}×</strong> {r.source}: {r.example}
                <div className="muted">last {formatTime(r.lastAt)}</div>
              </li>
            ))}
          </ul>
        </section>
      </div>

      <div className="columns">
        <ActivityFeed />
        <SystemStatusPanel />
      </div>
    </section>
  );
}

const seconds = (ms: number | null): string => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);

const LINKS: Record<string, (id: string, adapterId: string | null) => string> = {
  import: (id) => `/imports?run=${id}`,
  generation: (id) => `/history?job=${id}`,
  delivery: () => '/deliveries',
  edit: (_id, adapterId) => `/adapters/${adapterId ?? ''}`,
};

function ActivityFeed() {
  const feed = useInfiniteQuery({
    ...activityListInfiniteOptions({ query: { limit: 15 } }),
    initialPageParam: { query: { limit: 15 } },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const items = feed.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="activity-h" className="panel">
      <h2 id="activity-h">Activity</h2>
      <QueryState query={feed} />
      {feed.data && items.length === 0 && <p className="muted">Nothing happened yet.</p>}
      <ul className="plain" aria-label="Activity">
        {items.map((item) => (
          <li key={`${item.kind}:${item.id}`}>
            <span className="badge">{item.kind}</span>{' '}
            <Link to={LINKS[item.kind](item.id, item.adapterId)}>{item.status}</Link>
            {item.target && <span className="muted"> · {item.target}</span>} · {item.summary}
            {item.fields.length > 0 && <span className="muted"> ({item.fields.join(', ')})</span>}
            <div className="muted">{formatTime(item.at)}</div>
          </li>
        ))}
      </ul>
      {feed.hasNextPage && (
        <button type="button" onClick={() => void feed.fetchNextPage()} disabled={feed.isFetchingNextPage}>
          More
        </button>
      )}
    </section>
  );
}

function Breakdown({ title, rows }: { title: string; rows: { key: string; count: number }[] }) {
  const max = Math.max(1, ...rows.map((r) => r.count));
  return (
    <section className="panel" aria-label={title}>
      <h2>{title}</h2>
      <ul className="plain">
        {rows.slice(0, 8).map((r) => (
          <li key={r.key}>
            <span className="bar" style={{ width: `${(r.count / max) * 100}%` }} /> {r.key} · {r.count.toLocaleString()}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Stat({ label, value, to }: { label: string; value: string | undefined; to: string }) {
  return (
    <Link className="stat" to={to}>
      <span className="stat-value">{value ?? '…'}</span>
      <span className="stat-label">{label}</span>
    </Link>
  );
}
