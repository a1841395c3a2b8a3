import { useEffect, useState } from 'preact/hooks';
import { chartQuery, STATS_SUBSCRIPTION } from '../api/documents.ts';
import { graphql } from '../api/http.ts';
import { follow } from '../api/live.ts';
import type { QueueStats } from '../api/types.ts';
import { count, duration, percent } from '../state/format.ts';
import { ThroughputChart, type Bucket } from './ThroughputChart.tsx';

// 12 aliased fields: well inside the alias limit a hardened server applies (15).
const BUCKETS = 12;
const BUCKET_MS = 5 * 60_000;
const CHART_REFRESH_MS = 5_000;

interface LiveStats {
  stats: QueueStats | null;
  /** Why the figures shown are not current (they are being asked for again); null when they are. */
  stale: { reason: string; retrying: boolean } | null;
}

function useQueueStats(epoch: number): LiveStats {
  const [live, setLive] = useState<LiveStats>({ stats: null, stale: null });
  useEffect(
    () =>
      follow<{ queueStats: QueueStats }>(STATS_SUBSCRIPTION, () => ({}), {
        next: ({ queueStats }) => setLive({ stats: queueStats, stale: null }),
        interrupted: (reason) =>
          setLive((current) => ({ ...current, stale: { reason, retrying: true } })),
        // A refusal: not asked again (FORBIDDEN also opens the token dialog).
        error: (reason) =>
          setLive((current) => ({ ...current, stale: { reason, retrying: false } })),
      }),
    [epoch],
  );
  return live;
}

interface ChartFigures {
  sent: number;
  failedAttempts: number;
  bouncedHard: number;
  bouncedSoft: number;
  complained: number;
}

function useChart(epoch: number): { buckets: Bucket[] | null; stale: boolean } {
  const [buckets, setBuckets] = useState<Bucket[] | null>(null);
  const [stale, setStale] = useState(false);
  useEffect(() => {
    let cancelled = false;
    const load = () => {
      if (document.hidden) return;
      // Whole minutes, so consecutive loads line up and the bars do not jitter.
      const end = Math.ceil(Date.now() / 60_000) * 60_000;
      const bounds = Array.from({ length: BUCKETS + 1 }, (_, i) => end - (BUCKETS - i) * BUCKET_MS);
      graphql<Record<string, ChartFigures>>(chartQuery(bounds)).then(
        (data) => {
          if (cancelled) return;
          setStale(false);
          setBuckets(
            bounds.slice(0, -1).map((startMs, index) => {
              const figures = data[`b${index}`];
              return {
                startMs,
                sent: figures?.sent ?? 0,
                failed: figures?.failedAttempts ?? 0,
                bounced:
                  (figures?.bouncedHard ?? 0) +
                  (figures?.bouncedSoft ?? 0) +
                  (figures?.complained ?? 0),
              };
            }),
          );
        },
        // The chart keeps its last picture, marked as not current.
        () => {
          if (!cancelled) setStale(true);
        },
      );
    };
    load();
    const timer = setInterval(load, CHART_REFRESH_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [epoch]);
  return { buckets, stale };
}

function Counter(props: { label: string; value: number | null; tone: string; note?: string }) {
  return (
    <div class={`counter tone-${props.tone}`}>
      <dt>{props.label}</dt>
      <dd data-counter={props.label.toLowerCase().replace(/ /g, '-')}>
        {props.value === null ? '–' : count(props.value)}
        {props.note && <small>{props.note}</small>}
      </dd>
    </div>
  );
}

/** What delivery reports said in the window, and the rates mailbox providers watch. */
function OutcomeCounters({ stats }: { stats: QueueStats | null }) {
  const rate = (value: number | null | undefined) => (stats ? percent(value ?? null) : '–');
  return (
    <>
      <h3 class="counters-title">After sending</h3>
      <dl class="counters outcomes">
        <Counter label="Delivered" value={stats?.delivered ?? null} tone="delivered" />
        <Counter label="Deferred" value={stats?.deferred ?? null} tone="deferred" />
        <Counter label="Bounced hard" value={stats?.bouncedHard ?? null} tone="bounced" />
        <Counter label="Bounced soft" value={stats?.bouncedSoft ?? null} tone="deferred" />
        <Counter label="Complained" value={stats?.complained ?? null} tone="complained" />
      </dl>
      <p class="rates">
        <span>
          Bounce rate <strong data-rate="bounce">{rate(stats?.bounceRate)}</strong>
        </span>
        <span>
          Complaint rate <strong data-rate="complaint">{rate(stats?.complaintRate)}</strong>
        </span>
        <span>
          Suppressed sends{' '}
          <strong data-counter="suppressed">{stats ? count(stats.suppressed) : '–'}</strong>
        </span>
        <span>
          Unmatched reports{' '}
          <strong data-counter="unmatched">{stats ? count(stats.unmatchedReports) : '–'}</strong>
        </span>
      </p>
    </>
  );
}

/** Live counters over the last hour and the throughput chart. */
export function StatsPanel({ epoch }: { epoch: number }) {
  const { stats, stale } = useQueueStats(epoch);
  const chart = useChart(epoch);
  const oldest =
    stats?.oldestQueuedAgeMs != null ? `oldest ${duration(stats.oldestQueuedAgeMs)}` : undefined;
  return (
    <div class={`card stats${stale !== null ? ' is-stale' : ''}`}>
      <h2 class="card-title">Last hour</h2>
      {/* Frozen figures under a live header would pass for current ones. */}
      {stale !== null && (
        <p class="stale" role="status" data-stale>
          {stats ? 'Not current' : 'Not loaded'}: {stale.reason.replace(/\.$/, '')}.
          {stale.retrying && ' Trying again…'}
        </p>
      )}
      <dl class="counters">
        <Counter
          label="Queued"
          value={stats?.queueDepth ?? null}
          tone="queued"
          {...(oldest ? { note: oldest } : {})}
        />
        <Counter label="Sending" value={stats?.processing ?? null} tone="processing" />
        <Counter label="Sent" value={stats?.sent ?? null} tone="sent" />
        <Counter label="Abandoned" value={stats?.abandoned ?? null} tone="abandoned" />
        <Counter label="Failed attempts" value={stats?.failedAttempts ?? null} tone="failed" />
      </dl>
      <OutcomeCounters stats={stats} />
      {chart.stale && chart.buckets && (
        <p class="stale" role="status" data-stale="chart">
          The chart could not be read again: it shows an earlier picture.
        </p>
      )}
      <ThroughputChart buckets={chart.buckets} bucketMs={BUCKET_MS} />
    </div>
  );
}
