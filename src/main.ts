import { startApp } from './app.ts';
import { loadConfigFromEnv } from './load-config.ts';
import { LOG_LEVELS, type LogLevel } from './config.ts';
import { createLogger } from './logger.ts';
import { certificateValidTo } from './config-tls-pair.ts';

const loaded = loadConfigFromEnv(process.env);
if (!loaded.ok) {
  // The configuration is what failed, so the log level may be one of its problems.
  const requested = process.env['LOG_LEVEL'] as LogLevel;
  const log = createLogger({
    level: LOG_LEVELS.includes(requested) ? requested : 'info',
    name: 'main',
  });
  log.fatal(
    { problems: loaded.problems },
    `invalid configuration:\n${loaded.problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  process.exit(1);
}
const { config } = loaded;
const log = createLogger({ level: config.logLevel, name: 'main' });

let app: Awaited<ReturnType<typeof startApp>>;
try {
  app = await startApp(config, { log });
} catch (error) {
  // What a person can fix (a database that cannot be reached, a port in use) is said in one
  // line; the error itself goes to the log at debug level.
  log.debug({ err: error }, 'start-up failed');
  log.fatal(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
const smtp = app.embeddedSmtp
  ? `delivering to the embedded development SMTP server on ${app.embeddedSmtp.host}:${app.embeddedSmtp.port}`
  : app.smtpSource() === null
    ? 'no SMTP server configured yet'
    : 'delivering to the configured SMTP server';
// Tests and operators look for "GraphQL at <url>/graphql" in this line.
log.info({ url: app.url }, `GraphQL at ${app.url}/graphql, ${smtp}`);
if (app.submission) {
  log.info(
    { submission: app.submission },
    `SMTP submission on ${app.submission.host}:${app.submission.port}`,
  );
  warnOfCertificateExpiry(config.submission.tls?.cert ?? null);
}
if (config.submission.tls !== null) {
  // Daemons' convention for "read your certificates again" (systemd's ExecReload=kill -HUP).
  // Only with a certificate to reload: otherwise SIGHUP keeps its default, ending the process
  // whose terminal closed.
  process.on('SIGHUP', () => {
    if (!app.reloadCertificates()) log.info('SIGHUP: the submission certificate is unchanged');
  });
}

/** Clients that verify certificates refuse STARTTLS once it has expired: say so in time. */
function warnOfCertificateExpiry(certPem: string | null) {
  if (certPem === null) return;
  const validTo = certificateValidTo(certPem);
  const msLeft = validTo.getTime() - Date.now();
  const day = 86_400_000;
  if (msLeft >= 14 * day) return;
  log.warn(
    { validTo: validTo.toISOString() },
    msLeft < 0
      ? `SUBMISSION_TLS_CERT expired on ${validTo.toISOString()}: clients that verify certificates will refuse STARTTLS`
      : `SUBMISSION_TLS_CERT expires on ${validTo.toISOString()}, within ${Math.ceil(msLeft / day)} days: renew it (the files are read again every minute, or at SIGHUP)`,
  );
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, `${signal} received, finishing in-flight deliveries`);
  // A stuck close must not keep the process alive forever; the lease recovers anything left.
  const force = setTimeout(() => {
    log.error('shutdown took too long, exiting');
    process.exit(1);
  }, 15_000);
  force.unref();
  await app.close();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
