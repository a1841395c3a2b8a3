/**
 * Every DNS look-up the service makes by itself goes through here, so that DNS_SERVERS reaches
 * every record the sender-domain checks read (host names for connecting: thread-dns.ts).
 * Without DNS_SERVERS the system's resolvers answer.
 */
import { promises as dns } from 'node:dns';

export type DnsRecordType = 'TXT' | 'CNAME' | 'MX' | 'A' | 'AAAA';

/** What a look-up came to, as values: the checks report each outcome differently. */
export type DnsAnswer<T> =
  | { kind: 'found'; records: T[] }
  /** NXDOMAIN or NODATA: the name has no such record (a definite answer). */
  | { kind: 'none' }
  /** A time-out, SERVFAIL, refusal or unreachable server: nothing is known. */
  | { kind: 'tempfail'; reason: string };

export interface DnsResolver {
  /** The servers in use ("host:port"), or null for the system's. */
  readonly servers: readonly string[] | null;
  txt(name: string): Promise<DnsAnswer<string>>;
  cname(name: string): Promise<DnsAnswer<string>>;
  mx(name: string): Promise<DnsAnswer<{ exchange: string; priority: number }>>;
  /** A and AAAA together; `none` only when both are empty. */
  addresses(name: string): Promise<DnsAnswer<string>>;
  /**
   * The resolver mailauth expects: `(name, type)` resolving like `dns.promises.resolve`, with
   * its error codes (ENOTFOUND and ENODATA for "none", ETIMEOUT for a time-out); any other
   * failure also carries mailauth's `spfResult` temperror.
   */
  raw(name: string, type: string): Promise<any[]>;
}

/** Errors that say "no such record" rather than "no answer". */
const NONE_CODES = new Set(['ENOTFOUND', 'ENODATA']);

export interface DnsResolverOptions {
  /** DNS_SERVERS, as "host:port" (or "[v6]:port"); null for the system's. */
  servers: readonly string[] | null;
  /** DNS_TIMEOUT_MS: how long one query may take (one try, no retry). @default 5_000 */
  timeoutMs?: number;
}

export function createDnsResolver(options: DnsResolverOptions): DnsResolver {
  // A c-ares channel of its own for every query. Since c-ares 1.32 (Node 20's is 1.34) a channel
  // adapts its time-out to the answers it has seen: after a few fast ones a query gave up after
  // about a second whatever DNS_TIMEOUT_MS said, and Node 20's Resolver has no option to stop
  // it. A fresh channel has seen nothing, so `timeout` holds; one costs some microseconds, and
  // its socket is closed once its query is answered.
  const fresh = () => {
    const resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 5_000, tries: 1 });
    if (options.servers !== null) resolver.setServers([...options.servers]);
    return resolver;
  };

  async function answer<T>(work: () => Promise<T[]>): Promise<DnsAnswer<T>> {
    try {
      const records = await work();
      return records.length === 0 ? { kind: 'none' } : { kind: 'found', records };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (NONE_CODES.has(code)) return { kind: 'none' };
      return { kind: 'tempfail', reason: describe(code) };
    }
  }

  // mailauth's SPF turns only ETIMEOUT and EREFUSED into temperror, and an include: swallows any
  // other error as "no match": a SERVFAIL there would quietly change the result. Every failure
  // that is not "no such record" carries the temperror it is (RFC 7208 2.6.6).
  const raw = async (name: string, type: string): Promise<any[]> => {
    try {
      return await fresh().resolve(name, type as 'TXT');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (!NONE_CODES.has(code) && error !== null && typeof error === 'object') {
        (error as { spfResult?: unknown }).spfResult = {
          error: 'temperror',
          text: `${describe(code)} (${name} ${type})`,
        };
      }
      throw error;
    }
  };

  return {
    servers: options.servers,
    txt: (name) => answer(async () => (await fresh().resolveTxt(name)).map((row) => row.join(''))),
    cname: (name) => answer(() => fresh().resolveCname(name)),
    mx: (name) => answer(() => fresh().resolveMx(name)),
    async addresses(name) {
      const [v4, v6] = await Promise.all([
        answer(() => fresh().resolve4(name)),
        answer(() => fresh().resolve6(name)),
      ]);
      const found = [v4, v6].flatMap((a) => (a.kind === 'found' ? a.records : []));
      if (found.length > 0) return { kind: 'found', records: found };
      if (v4.kind === 'tempfail') return v4;
      if (v6.kind === 'tempfail') return v6;
      return { kind: 'none' };
    },
    raw,
  };
}

function describe(code: string): string {
  switch (code) {
    case 'ETIMEOUT':
      return 'the DNS query timed out';
    case 'ESERVFAIL':
      return 'the DNS server answered SERVFAIL';
    case 'EREFUSED':
      return 'the DNS server refused the query';
    case 'ECONNREFUSED':
      return 'the DNS server could not be reached';
    default:
      return `the DNS query failed (${code})`;
  }
}
