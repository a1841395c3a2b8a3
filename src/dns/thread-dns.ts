/**
 * DNS_SERVERS for the host-name look-ups of a thread: the destination guard (which opens every
 * SMTP socket when DNS_SERVERS is set, since nodemailer's own look-ups use fresh resolvers with
 * the system's servers) and verifySmtp's DNS step. Each thread's composition root calls
 * useDnsServers once; a worker thread has default resolvers of its own.
 */
import callbackDns, { promises as dns } from 'node:dns';
import { isIP } from 'node:net';

let configured: readonly string[] | null = null;
let queryTimeoutMs = 5_000;

/** DNS_SERVERS and DNS_TIMEOUT_MS (how long one query to them may take) for this thread. */
export function useDnsServers(servers: readonly string[] | null, timeoutMs = 5_000): void {
  configured = servers;
  queryTimeoutMs = timeoutMs;
  if (servers === null) return;
  // The callback API (nodemailer's) and the promise API each have a default resolver of their own.
  callbackDns.setServers([...servers]);
  dns.setServers([...servers]);
}

/**
 * A host's addresses, for connecting. Without DNS_SERVERS through getaddrinfo (so /etc/hosts
 * counts); with it, A and AAAA from those servers.
 */
export async function lookupHost(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  if (configured === null) {
    return (await dns.lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
  }
  // One try of DNS_TIMEOUT_MS on a channel of its own (the default resolver tries 4 times with
  // growing time-outs: about 27 s before a silent server counted as failed; and a shared
  // channel adapts its time-out to past answers, see resolver.ts).
  const servers = configured;
  const fresh = () => {
    const resolver = new dns.Resolver({ timeout: queryTimeoutMs, tries: 1 });
    resolver.setServers([...servers]);
    return resolver;
  };
  const [v4, v6] = await Promise.allSettled([fresh().resolve4(host), fresh().resolve6(host)]);
  const found = [v4, v6].flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  if (found.length > 0) return found;
  // A failure (SERVFAIL, time-out) says more than the other family's "none".
  const failures = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  const telling = failures.find((e) => !NONE_CODES.has((e as NodeJS.ErrnoException).code ?? ''));
  throw (
    telling ??
    failures[0] ??
    Object.assign(new Error(`${host} has no addresses`), { code: 'ENODATA' })
  );
}

const NONE_CODES = new Set(['ENOTFOUND', 'ENODATA']);
