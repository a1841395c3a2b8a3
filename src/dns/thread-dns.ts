/**
 * DNS_SERVERS for the host-name look-ups of a thread: the destination guard (which opens every
 * SMTP socket when DNS_SERVERS is set, since nodemailer's own look-ups use fresh resolvers with
 * the system's servers) and verifySmtp's DNS step. Each thread's composition root calls
 * useDnsServers once; a worker thread has default resolvers of its own.
 */
import callbackDns, { promises as dns } from 'node:dns';
import { isIP } from 'node:net';

let configured: readonly string[] | null = null;

export function useDnsServers(servers: readonly string[] | null): void {
  configured = servers;
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
  const [v4, v6] = await Promise.allSettled([dns.resolve4(host), dns.resolve6(host)]);
  const found = [v4, v6].flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  if (found.length > 0) return found;
  throw v4.status === 'rejected' ? v4.reason : new Error(`${host} has no addresses`);
}
