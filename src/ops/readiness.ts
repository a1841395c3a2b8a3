import type { DeliveryThreadHealth } from '../delivery/delivery-thread-host.ts';

export interface ReadinessCheck {
  ok: boolean;
  /** Why it is not ready; absent when ok. Never a secret. */
  problem?: string;
  /** For smtp: where the configuration in use comes from (STORED, ENVIRONMENT, EMBEDDED). */
  source?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: { database: ReadinessCheck; worker: ReadinessCheck; smtp: ReadinessCheck };
}

export interface ReadinessDeps {
  /** null when the database takes writes. */
  databaseProblem: () => Promise<string | null>;
  /** null while the delivery thread is still starting. */
  deliveryHealth: () => DeliveryThreadHealth | null;
  /** The SMTP configuration in use (stored, environment or embedded), or null. */
  smtpSource: () => string | null;
  /**
   * SMTP_DISALLOW_PRIVATE_IPS is on: the embedded development server listens on loopback, so
   * every message sent to it would be refused and abandoned.
   */
  privateDestinationsRefused: boolean;
  /**
   * How old the worker's last cycle may be. A worker whose every slot waits on a slow SMTP
   * server does not cycle until one finishes, so this is generous: a few SMTP timeouts.
   */
  cycleStaleAfterMs: number;
  now?: () => number;
}

/** The thread posts a heartbeat every second; a few missing mean it is stuck or gone. */
const HEARTBEAT_STALE_MS = 5_000;

/** "Can this instance do its job now?": the database takes writes, the worker runs, SMTP is set. */
export function createReadiness(deps: ReadinessDeps) {
  const now = deps.now ?? Date.now;

  function worker(): ReadinessCheck {
    const health = deps.deliveryHealth();
    if (health === null) return { ok: false, problem: 'the delivery thread is starting' };
    if (!health.running) return { ok: false, problem: 'the delivery thread has exited' };
    const at = now();
    if (health.lastHeartbeatAtMs === null || at - health.lastHeartbeatAtMs > HEARTBEAT_STALE_MS) {
      return { ok: false, problem: 'the delivery thread has not reported in the last 5 s' };
    }
    if (health.lastCycleAtMs === null) {
      return { ok: false, problem: 'the delivery worker has not run yet' };
    }
    const ageMs = at - health.lastCycleAtMs;
    if (ageMs > deps.cycleStaleAfterMs) {
      return {
        ok: false,
        problem: `the delivery worker last ran ${Math.round(ageMs / 1000)} s ago`,
      };
    }
    return { ok: true };
  }

  return {
    async check(): Promise<ReadinessReport> {
      const databaseProblem = await deps.databaseProblem();
      const database: ReadinessCheck =
        databaseProblem === null
          ? { ok: true }
          : { ok: false, problem: `the database does not accept writes: ${databaseProblem}` };
      const source = deps.smtpSource();
      const smtp: ReadinessCheck =
        source === null
          ? {
              ok: false,
              problem:
                'no SMTP server is configured and the embedded development server is off (configureSmtp or SMTP_CONNECTION_URI)',
            }
          : source === 'EMBEDDED' && deps.privateDestinationsRefused
            ? {
                ok: false,
                source,
                problem:
                  'SMTP_DISALLOW_PRIVATE_IPS=true refuses the embedded development server (loopback), so every message would be abandoned: configure an SMTP server (configureSmtp or SMTP_CONNECTION_URI) or set EMBEDDED_SMTP_PORT=off',
              }
            : { ok: true, source };
      const checks = { database, worker: worker(), smtp };
      return { ready: database.ok && checks.worker.ok && smtp.ok, checks };
    },
  };
}

export type Readiness = ReturnType<typeof createReadiness>;
