import { useQuery } from '@tanstack/react-query';
import { systemGetOptions } from '../api/generated/@tanstack/react-query.gen';
import { QueryState } from '../components/query-state';
import { formatBytes } from '../components/format';

const REFRESH_MS = 5000;

const uptime = (seconds: number): string => {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${seconds % 60} s`;
};

/** Backends, queues, processes, latencies and disks; refreshed every 5 seconds. */
export function SystemStatusPanel() {
  const status = useQuery({ ...systemGetOptions(), refetchInterval: REFRESH_MS });
  const s = status.data;
  return (
    <section aria-labelledby="system-h" className="panel">
      <h2 id="system-h">System status</h2>
      <QueryState query={status} />
      {s && (
        <>
          <p>
            Version {s.version} · up {uptime(s.uptimeSeconds)} · {s.mode} · database {s.database.type}{' '}
            {s.database.ok ? `${s.database.latencyMs} ms` : <span className="error-text">{s.database.error}</span>}
            {s.redis && (
              <>
                {' '}
                · Redis {s.redis.ok ? `${s.redis.latencyMs} ms` : <span className="error-text">{s.redis.error}</span>}
              </>
            )}
          </p>
          <p>
            Processes alive: {s.alive.api} API, {s.alive.worker} worker
          </p>
          <h3>Backends</h3>
          {s.backends.length === 0 && <p>No SD.Next backend is configured (SDNEXT_URL).</p>}
          <ul className="plain" aria-label="Backends">
            {s.backends.map((b) => (
              <li key={b.id}>
                <span className={b.reachable ? 'badge ok' : 'badge bad'}>
                  {b.reachable ? 'reachable' : 'unreachable'}
                </span>{' '}
                <strong>{b.id}</strong> {b.flavour} {b.version ?? ''} · {b.busy ? 'busy' : 'idle'}
                {b.progress && (
                  <>
                    {' '}
                    <progress max={1} value={b.progress.progress} aria-label={`${b.id} progress`} /> step{' '}
                    {b.progress.step}/{b.progress.steps}
                  </>
                )}
                {b.currentModel && <div className="muted">{b.currentModel}</div>}
                {b.error && <div className="error-text">{b.error}</div>}
              </li>
            ))}
          </ul>
          <h3>Queues</h3>
          <table className="compact">
            <thead>
              <tr>
                <th>queue</th>
                <th>waiting</th>
                <th>active</th>
                <th>delayed</th>
              </tr>
            </thead>
            <tbody>
              {s.queues.map((q) => (
                <tr key={q.name}>
                  <td>{q.name}</td>
                  <td>{q.waiting}</td>
                  <td>{q.active}</td>
                  <td>{q.delayed}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Disks</h3>
          <ul className="plain">
            {s.disks.map((d) => (
              <li key={d.name}>
                {d.name}:{' '}
                {d.freeBytes === null ? (
                  <span className="error-text">{d.error}</span>
                ) : (
                  `${formatBytes(d.freeBytes)} free`
                )}
                {d.totalBytes !== null && <span className="muted"> of {formatBytes(d.totalBytes)}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
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
  );
}
