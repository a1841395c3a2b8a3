import { createServer, Packet } from 'dns2';
import { closeWith, type Scope } from './scope.ts';

/** One record of a test zone; names are absolute and without a trailing dot. */
export type ZoneRecord =
  | { type: 'TXT'; value: string }
  | { type: 'CNAME'; value: string }
  | { type: 'A'; value: string }
  | { type: 'AAAA'; value: string }
  | { type: 'MX'; value: string; priority?: number };

/** Records answered only after `delayMs`: a slow name server (the name itself only). */
export interface DelayedRecords {
  delayMs: number;
  records: ZoneRecord[];
}

/**
 * name → its records, or a failure for the name and every name under it: SERVFAIL answers
 * SERVFAIL, TIMEOUT never answers.
 */
export type Zones = Record<string, ZoneRecord[] | DelayedRecords | 'SERVFAIL' | 'TIMEOUT'>;

const recordsOf = (entry: Zones[string] | undefined): ZoneRecord[] | null =>
  Array.isArray(entry) ? entry : typeof entry === 'object' ? entry.records : null;

export interface TestDnsServer {
  /** "127.0.0.1:port", as DNS_SERVERS takes it. */
  address: string;
  /** Every question asked, as "name TYPE". */
  queries: string[];
  /** Replaces the zones served. */
  setZones(zones: Zones): void;
}

const TYPE_NAMES = new Map(Object.entries(Packet.TYPE).map(([name, code]) => [code, name]));

/** Splits a TXT value into character-strings of at most 255 bytes (RFC 1035 3.3.14). */
function characterStrings(value: string): string[] {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(value.slice(i, i + 255));
  return parts.length > 0 ? parts : [''];
}

/**
 * An authoritative DNS server for test zones on 127.0.0.1 (UDP and TCP on one port, since
 * resolvers retry a truncated answer over TCP). Nothing it is asked goes anywhere else: a name it
 * does not know is NXDOMAIN.
 */
export async function startTestDnsServer(scope: Scope, initial: Zones): Promise<TestDnsServer> {
  let zones = lowerKeys(initial);
  const queries: string[] = [];
  const failureFor = (name: string) => {
    for (let n = name; n !== ''; n = n.includes('.') ? n.slice(n.indexOf('.') + 1) : '') {
      const entry = zones[n];
      if (entry === 'SERVFAIL' || entry === 'TIMEOUT') return entry;
    }
    return null;
  };
  const answer = (name: string, type: string, response: any, depth = 0): boolean => {
    const entry = recordsOf(zones[name]);
    if (entry === null) return false;
    const cname = entry.find((r) => r.type === 'CNAME');
    if (cname && type !== 'CNAME' && depth < 8) {
      response.answers.push(resource(name, cname));
      answer(cname.value.toLowerCase(), type, response, depth + 1);
      return true;
    }
    for (const record of entry.filter((r) => r.type === type)) {
      response.answers.push(resource(name, record));
    }
    return true;
  };
  const handle = (request: any, send: (response: any) => void) => {
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    const [question] = request.questions;
    const name = String(question.name).toLowerCase().replace(/\.$/, '');
    const type = TYPE_NAMES.get(question.type) ?? String(question.type);
    queries.push(`${name} ${type}`);
    const failure = failureFor(name);
    if (failure === 'TIMEOUT') return;
    if (failure === 'SERVFAIL') {
      response.header.rcode = (Packet as any).RCODE.SERVFAIL;
      return send(response);
    }
    if (!answer(name, type, response)) {
      // A name with nothing is NXDOMAIN, unless names exist under it (an empty non-terminal).
      const under = Object.keys(zones).some((n) => n.endsWith(`.${name}`));
      if (!under) response.header.rcode = (Packet as any).RCODE.NXDOMAIN;
    }
    const entry = zones[name];
    if (typeof entry === 'object' && !Array.isArray(entry)) {
      setTimeout(() => send(response), entry.delayMs).unref();
    } else send(response);
  };
  // UDP on a free port, then TCP on the same one, retried with a new server in the rare case the
  // TCP port is taken (by some client's connection): a closed UDP socket cannot listen again.
  // dns2 repeats its servers' errors on the DNS server, which throws one that nobody listens
  // for: a taken port ended the test file (EADDRINUSE, uncaught) rather than being retried. So
  // while it starts, an error is the loop's to handle; once it has started, it is thrown.
  for (let attempt = 0; ; attempt++) {
    const server = createServer({ udp: true, tcp: true, handle });
    let started = false;
    server.on('error', (error: unknown) => {
      if (started) throw error;
    });
    const udp = (server as any).servers.udp;
    await udp.listen(0, '127.0.0.1');
    const port = udp.address().port as number;
    const tcp = (server as any).servers.tcp;
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      started = true;
      closeWith(scope, () => server.close());
      return {
        address: `127.0.0.1:${port}`,
        queries,
        setZones: (next) => (zones = lowerKeys(next)),
      };
    }
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (attempt === 5) throw new Error('no port free for UDP and TCP at once');
  }
}

function lowerKeys(zones: Zones): Zones {
  return Object.fromEntries(Object.entries(zones).map(([k, v]) => [k.toLowerCase(), v]));
}

function resource(name: string, record: ZoneRecord): any {
  const base = { name, class: Packet.CLASS.IN, ttl: 60 };
  switch (record.type) {
    case 'TXT':
      return { ...base, type: Packet.TYPE.TXT, data: characterStrings(record.value) };
    case 'CNAME':
      return { ...base, type: Packet.TYPE.CNAME, domain: record.value };
    case 'A':
      return { ...base, type: Packet.TYPE.A, address: record.value };
    case 'AAAA':
      return { ...base, type: Packet.TYPE.AAAA, address: record.value };
    case 'MX':
      return {
        ...base,
        type: Packet.TYPE.MX,
        exchange: record.value,
        priority: record.priority ?? 10,
      };
  }
}
