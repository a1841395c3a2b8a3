import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { certificateValidTo, tlsPairProblems, type TlsPairNames } from '../config-tls-pair.ts';
import type { Logger } from '../logger.ts';

// A listener's certificate is renewed on disk (certbot, cert-manager, a secret mount) every few
// weeks; the listener takes the new one without a restart, which would drop the connections of
// every application submitting mail at that moment.

export interface TlsPairFiles {
  cert: string;
  key: string;
}

export interface TlsPairReloadOptions {
  names: TlsPairNames;
  files: TlsPairFiles;
  /** The pair the listener started with (as read for the configuration). */
  inUse: { cert: string; key: string };
  /** Gives the listener the new pair: connections from now on use it. */
  apply(pair: { cert: string; key: string }): void;
  log: Logger;
  /** How often the files' status is read. @default 60_000 */
  intervalMs?: number;
  /**
   * How long the files must stay unchanged before they are read: a renewal writes the
   * certificate and the key one after the other. @default 2_000
   */
  settleMs?: number;
}

export interface TlsPairReload {
  /** Reads the files now (SIGHUP); true when a new pair is in use. */
  reloadNow(): boolean;
  close(): void;
}

/**
 * Watches a certificate and key pair by polling their status (a renewal often replaces a
 * symlink or the whole directory, which file-system events miss), and hands a pair that checks
 * out to the listener. A pair that does not (the key of another certificate, half-written
 * files) is logged and the pair in use is kept.
 */
export function watchTlsPair(options: TlsPairReloadOptions): TlsPairReload {
  const { names, files, log } = options;
  const intervalMs = options.intervalMs ?? 60_000;
  const settleMs = options.settleMs ?? 2_000;
  let inUse = options.inUse;
  let settle: NodeJS.Timeout | null = null;

  function reload(): boolean {
    let cert: string;
    let key: string;
    try {
      cert = readFileSync(files.cert, 'utf8');
      key = readFileSync(files.key, 'utf8');
    } catch (error) {
      log.error(
        { err: error },
        `${names.cert} / ${names.key}: cannot read the new files; the certificate in use is kept`,
      );
      return false;
    }
    if (cert === inUse.cert && key === inUse.key) return false;
    const problems = tlsPairProblems(
      names,
      { path: files.cert, pem: cert },
      { path: files.key, pem: key },
    );
    if (problems.length > 0) {
      log.error(
        { problems },
        `the renewed certificate was not taken, the one in use is kept: ${problems.join('; ')}`,
      );
      return false;
    }
    inUse = { cert, key };
    options.apply(inUse);
    const validTo = certificateValidTo(cert).toISOString();
    log.info({ validTo }, `${names.cert}: the renewed certificate is in use (valid to ${validTo})`);
    return true;
  }

  // watchFile calls on every poll whose status differs, an access included: only a new
  // modification time, file (a replaced symlink's target) or size is a renewal.
  const changed = (now: Stats, before: Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) {
      return;
    }
    if (settle !== null) clearTimeout(settle);
    settle = setTimeout(() => {
      settle = null;
      reload();
    }, settleMs);
    settle.unref();
  };
  for (const path of [files.cert, files.key]) {
    watchFile(path, { interval: intervalMs, persistent: false }, changed);
  }
  return {
    reloadNow: reload,
    close() {
      if (settle !== null) clearTimeout(settle);
      for (const path of [files.cert, files.key]) unwatchFile(path, changed);
    },
  };
}
