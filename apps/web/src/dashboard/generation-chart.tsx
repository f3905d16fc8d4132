import type { GenerationBucketDto } from '../api/generated';

const HEIGHT = 160;
const WIDTH = 720;
const PAD = { top: 8, right: 8, bottom: 22, left: 36 };

interface Bar {
  start: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  other: number;
}

/** Sums the backends of each bucket, oldest first. */
function barsOf(series: GenerationBucketDto[]): Bar[] {
  const byStart = new Map<string, Bar>();
  for (const row of series) {
    const bar = byStart.get(row.start) ?? { start: row.start, succeeded: 0, failed: 0, cancelled: 0, other: 0 };
    bar.succeeded += row.succeeded;
    bar.failed += row.failed;
    bar.cancelled += row.cancelled;
    bar.other += row.count - row.succeeded - row.failed - row.cancelled;
    byStart.set(row.start, bar);
  }
  return [...byStart.values()].sort((a, b) => a.start.localeCompare(b.start));
}

const PARTS = [
  { key: 'succeeded', className: 'chart-ok', label: 'succeeded' },
  { key: 'failed', className: 'chart-bad', label: 'failed' },
  { key: 'cancelled', className: 'chart-muted', label: 'cancelled' },
  { key: 'other', className: 'chart-pending', label: 'queued or running' },
] as const;

/** Generations per bucket as stacked bars (plain SVG): succeeded, failed, cancelled, still open. */
export function GenerationChart({ series, bucket }: { series: GenerationBucketDto[]; bucket: 'hour' | 'day' }) {
  const bars = barsOf(series);
  if (bars.length === 0) return <p className="muted">No generations in this range.</p>;
  const max = Math.max(1, ...bars.map((b) => b.succeeded + b.failed + b.cancelled + b.other));
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const slot = innerW / bars.length;
  const barW = Math.max(1, slot * 0.8);
  const label = (iso: string) =>
    bucket === 'hour'
      ? new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit' })
      : new Date(iso).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Generations per ${bucket}`}>
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={PAD.top + innerH} y2={PAD.top + innerH} className="chart-axis" />
        <text x={PAD.left - 4} y={PAD.top + 8} textAnchor="end" className="chart-tick">
          {max}
        </text>
        <text x={PAD.left - 4} y={PAD.top + innerH} textAnchor="end" className="chart-tick">
          0
        </text>
        {bars.map((bar, i) => {
          let y = PAD.top + innerH;
          const x = PAD.left + i * slot + (slot - barW) / 2;
          const total = bar.succeeded + bar.failed + bar.cancelled + bar.other;
          return (
            <g key={bar.start} data-testid="chart-bar">
              <title>{`${label(bar.start)}: ${total} (${bar.succeeded} succeeded, ${bar.failed} failed, ${bar.cancelled} cancelled)`}</title>
              {PARTS.map((part) => {
                const h = (bar[part.key] / max) * innerH;
                y -= h;
                return h > 0 ? (
                  <rect key={part.key} x={x} y={y} width={barW} height={h} className={part.className} />
                ) : null;
              })}
            </g>
          );
        })}
        <text x={PAD.left} y={HEIGHT - 6} className="chart-tick">
          {label(bars[0].start)}
        </text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 6} textAnchor="end" className="chart-tick">
          {label(bars[bars.length - 1].start)}
        </text>
      </svg>
      <figcaption className="chart-legend">
        {PARTS.map((part) => (
          <span key={part.key}>
            <span className={`chart-swatch ${part.className}`} /> {part.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
