import { count } from '../state/format.ts';

export interface Bucket {
  startMs: number;
  sent: number;
  failed: number;
  /** Bounces and complaints reported in the bucket. */
  bounced: number;
}

const WIDTH = 300;
const HEIGHT = 64;

function clock(ms: number): string {
  const date = new Date(ms);
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/**
 * Sent messages and failed attempts per bucket, as stacked bars in plain SVG; bounces and
 * complaints reported in the bucket as a thin bar beside them (they come later than the sending).
 */
export function ThroughputChart({
  buckets,
  bucketMs,
}: {
  buckets: Bucket[] | null;
  bucketMs: number;
}) {
  if (!buckets) return <div class="chart chart-empty">Loading chart…</div>;
  const busiest = Math.max(0, ...buckets.map((b) => b.sent + b.failed));
  const peak = Math.max(1, busiest, ...buckets.map((b) => b.bounced));
  const slot = WIDTH / buckets.length;
  const totalSent = buckets.reduce((sum, b) => sum + b.sent, 0);
  const totalFailed = buckets.reduce((sum, b) => sum + b.failed, 0);
  const totalBounced = buckets.reduce((sum, b) => sum + b.bounced, 0);
  const label = `Last hour in ${bucketMs / 60_000}-minute bars: ${totalSent} sent, ${totalFailed} failed attempts; ${totalBounced} bounced or complained; busiest bar ${busiest}.`;
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={label}
      >
        <line x1="0" y1={HEIGHT - 0.5} x2={WIDTH} y2={HEIGHT - 0.5} class="axis" />
        {buckets.map((bucket, index) => {
          const x = index * slot + slot * 0.12;
          const width = slot * 0.56;
          const sentHeight = (bucket.sent / peak) * (HEIGHT - 4);
          const failedHeight = (bucket.failed / peak) * (HEIGHT - 4);
          const bouncedHeight = (bucket.bounced / peak) * (HEIGHT - 4);
          return (
            <g key={bucket.startMs}>
              <title>{`${clock(bucket.startMs)}–${clock(bucket.startMs + bucketMs)}: ${bucket.sent} sent, ${bucket.failed} failed, ${bucket.bounced} bounced or complained`}</title>
              <rect
                x={x}
                y={HEIGHT - sentHeight}
                width={width}
                height={sentHeight}
                class="bar-sent"
              />
              <rect
                x={x}
                y={HEIGHT - sentHeight - failedHeight}
                width={width}
                height={failedHeight}
                class="bar-failed"
              />
              <rect
                x={x + width + slot * 0.06}
                y={HEIGHT - bouncedHeight}
                width={slot * 0.16}
                height={bouncedHeight}
                class="bar-bounced"
              />
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span>{clock(buckets[0]!.startMs)}</span>
        <span class="legend">
          <i class="swatch sent" /> sent <i class="swatch failed" /> failed attempts{' '}
          <i class="swatch bounced" /> bounced{' '}
          <span class="muted" title="the bars' scale: sent and failed attempts in the busiest bar">
            · busiest bar {count(busiest)}
          </span>
        </span>
        <span>now</span>
      </figcaption>
    </figure>
  );
}
