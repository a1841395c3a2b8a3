import { startServiceProcess, type ServiceProcess } from './service-process.ts';

export interface InstancesOptions {
  /** DATABASE_URL every instance shares. */
  databaseUrl: string;
  /** Where they all deliver. */
  sinkPort: number;
  /** SMTP_MAX_CONNECTIONS of each instance. */
  smtpConnections: number;
  count: number;
  /** Run them with --cpu-prof, profiles written here. */
  cpuProfDir?: string | null;
}

/**
 * `count` service processes (as `npm start` runs them) on one PostgreSQL database, started
 * together so that they also race for the migration lock as real replicas do. Resolves once
 * every one answers /healthz; if any fails to start, the others are stopped and the first
 * failure is thrown.
 */
export async function startInstances(options: InstancesOptions): Promise<ServiceProcess[]> {
  const started = await Promise.allSettled(
    Array.from({ length: options.count }, () =>
      startServiceProcess({
        env: {
          DATABASE_URL: options.databaseUrl,
          SMTP_CONNECTION_URI: `smtp://127.0.0.1:${options.sinkPort}/?disable_starttls=true`,
          SMTP_MAX_CONNECTIONS: String(options.smtpConnections),
        },
        cpuProfDir: options.cpuProfDir ?? null,
      }),
    ),
  );
  const instances = started.flatMap((result) =>
    result.status === 'fulfilled' ? [result.value] : [],
  );
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await stopInstances(instances);
    throw failure.reason;
  }
  return instances;
}

/** Stops them all at once (SIGTERM each, SIGKILL after 20 s); notes on slow or failed shutdowns. */
export async function stopInstances(instances: readonly ServiceProcess[]): Promise<string[]> {
  const shutdowns = await Promise.all(instances.map((instance) => instance.stop()));
  const notes: string[] = [];
  for (const [i, shutdown] of shutdowns.entries()) {
    if (shutdown && (shutdown.code !== 0 || shutdown.ms > 6_000)) {
      notes.push(
        `instance ${i + 1}: SIGTERM shutdown took ${(shutdown.ms / 1000).toFixed(1)} s and ended ` +
          `with ${shutdown.signal ?? `status ${shutdown.code}`} ("${shutdown.lastLine}")`,
      );
    }
  }
  return notes;
}
