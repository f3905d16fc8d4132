import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import {
  adaptersListOptions,
  deliveriesListOptions,
  generationBackendsOptions,
  generationListOptions,
  importsListOptions,
} from '../api/generated/@tanstack/react-query.gen';
import { QueryState } from '../components/query-state';
import { formatTime } from '../components/format';

function useLibraryCounts() {
  const total = useQuery(adaptersListOptions({ query: { limit: 1 } }));
  const active = useQuery(adaptersListOptions({ query: { limit: 1, active: true } }));
  const favorite = useQuery(adaptersListOptions({ query: { limit: 1, favorite: true } }));
  const missing = useQuery(adaptersListOptions({ query: { limit: 1, missing: true } }));
  return { total, active, favorite, missing };
}

export function DashboardPage() {
  const counts = useLibraryCounts();
  const backends = useQuery(generationBackendsOptions());
  const queued = useQuery(generationListOptions({ query: { status: 'queued', limit: 1 } }));
  const running = useQuery(generationListOptions({ query: { status: 'running', limit: 1 } }));
  const recentGenerations = useQuery(generationListOptions({ query: { limit: 5 } }));
  const imports = useQuery(importsListOptions());
  const deliveries = useQuery(deliveriesListOptions({ query: { limit: 5 } }));
  return (
    <section className="page">
      <h1>Dashboard</h1>
      <div className="cards-row">
        <Stat label="Adapters" value={counts.total.data?.total} to="/library" />
        <Stat label="Active" value={counts.active.data?.total} to="/library?active=true" />
        <Stat label="Favorites" value={counts.favorite.data?.total} to="/library?favorite=true" />
        <Stat label="Missing files" value={counts.missing.data?.total} to="/library?missing=true" />
        <Stat label="Generations queued" value={queued.data?.total} to="/studio" />
        <Stat label="Generations running" value={running.data?.total} to="/studio" />
      </div>
      <QueryState query={counts.total} />
      <div className="columns">
        <section aria-labelledby="backends-h" className="panel">
          <h2 id="backends-h">Generation backends</h2>
          <QueryState query={backends} />
          {backends.data?.length === 0 && <p>No SD.Next backend is configured (SDNEXT_URL).</p>}
          <ul className="plain">
            {backends.data?.map((b) => (
              <li key={b.id}>
                <span className={b.reachable ? 'badge ok' : 'badge bad'}>
                  {b.reachable ? 'reachable' : 'unreachable'}
                </span>{' '}
                <strong>{b.id}</strong> {b.flavour} {b.version ?? ''} {b.busy ? '· busy' : '· idle'}
                {b.currentModel && <div className="muted">{b.currentModel}</div>}
                {b.error && <div className="error-text">{b.error}</div>}
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="activity-h" className="panel">
          <h2 id="activity-h">Recent activity</h2>
          <ul className="plain">
            {imports.data?.slice(0, 5).map((run) => (
              <li key={run.id}>
                Import <Link to={`/imports?run=${run.id}`}>{run.status}</Link> · {run.counts.added} added,{' '}
                {run.counts.updated} updated · {formatTime(run.createdAt)}
              </li>
            ))}
            {recentGenerations.data?.items.map((job) => (
              <li key={job.id}>
                Generation <Link to={`/history?job=${job.id}`}>{job.status}</Link> · {formatTime(job.createdAt)}
              </li>
            ))}
            {deliveries.data?.items.map((d) => (
              <li key={d.id}>
                Delivery ({d.mode}) <Link to="/deliveries">{d.status}</Link> · {formatTime(d.createdAt)}
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="system-h" className="panel">
          <h2 id="system-h">System</h2>
          <p>Web app version {__APP_VERSION__}</p>
          <ul className="plain">
            <li>
              <a href="/docs">API documentation (/docs)</a>
            </li>
            <li>
              <a href="/metrics">Prometheus metrics (/metrics)</a>
            </li>
            <li>
              <a href="/health/ready">Readiness (/health/ready)</a>
            </li>
          </ul>
        </section>
      </div>
    </section>
  );
}

function Stat({ label, value, to }: { label: string; value: number | undefined; to: string }) {
  return (
    <Link className="stat" to={to}>
      <span className="stat-value">{value === undefined ? '…' : value.toLocaleString()}</span>
      <span className="stat-label">{label}</span>
    </Link>
  );
}
