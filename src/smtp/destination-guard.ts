/**
 * Where SMTP connections may go. With SMTP_DISALLOW_PRIVATE_IPS an admin token (or a stolen one)
 * cannot make the service dial into its own network: loopback, private, link-local, CGNAT and
 * cloud-metadata addresses are refused. The check is on the address actually dialled: the host
 * is resolved once, every address checked, and the connection made to that address (the TLS
 * name stays the host name), so a DNS answer that changes between check and connect
 * (rebinding) changes nothing.
 */
import { lookupHost } from '../dns/thread-dns.ts';
import net from 'node:net';
import type { SMTPTransportGetSocket } from 'nodemailer/lib/smtp-transport/index.js';

export type { SMTPTransportGetSocket };

export interface DestinationPolicy {
  disallowPrivateIps: boolean;
  /** null: any port. */
  allowedPorts: readonly number[] | null;
}

/** The policy from the configuration, or null when it allows everything (the default). */
export function destinationPolicy(security: {
  smtpDisallowPrivateIps: boolean;
  smtpAllowedPorts: readonly number[] | null;
}): DestinationPolicy | null {
  if (!security.smtpDisallowPrivateIps && security.smtpAllowedPorts === null) return null;
  return {
    disallowPrivateIps: security.smtpDisallowPrivateIps,
    allowedPorts: security.smtpAllowedPorts,
  };
}

const FORBIDDEN = new net.BlockList();
const RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['192.0.2.0', 24, 'ipv4', 'documentation'],
  ['192.88.99.0', 24, 'ipv4', '6to4 relay anycast (deprecated)'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  // Embedded IPv4 (mapped, compatible, SIIT, NAT64, 6to4, Teredo) is checked as the IPv4
  // addresses it carries, see embeddedIpv4s (BlockList would match every IPv4 address against
  // ::/96).
  ['64:ff9b:1::', 48, 'ipv6', 'NAT64 local use'],
  ['100::', 64, 'ipv6', 'discard'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  // fd00:ec2::254 (AWS metadata) is in here.
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];
for (const [address, prefix, type] of RANGES) FORBIDDEN.addSubnet(address, prefix, type);

/** The 16 bytes of an IPv6 address (which may end in dotted IPv4). */
function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase().split('%')[0]!;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === null ? [] : Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups]
    .map((group) => parseInt(group, 16))
    .flatMap((n) => [n >> 8, n & 0xff]);
}

interface EmbeddedIpv4 {
  ipv4: string;
  /** How it is carried, for the message: "IPv4-mapped", "6to4", "Teredo client", … */
  form: string;
  /** The IPv6 address stands for the IPv4 one (mapped, SIIT, NAT64), rather than tunnelling to it. */
  translated: boolean;
}

const dotted = (bytes: number[]) => bytes.join('.');

/**
 * The IPv4 addresses an IPv6 address carries and that a translator, relay or tunnel on the way
 * may end up dialling: IPv4-mapped (::ffff:0:0/96), SIIT's IPv4-translated (::ffff:0:0:0/96),
 * IPv4-compatible (::/96), NAT64 (64:ff9b::/96), 6to4 (2002::/16, the relay's IPv4 in bits
 * 16-47) and Teredo (2001::/32: the server's IPv4 in bits 32-63, the client's inverted in the
 * last 32). Every one is checked: an attacker picks whichever form the guard forgets.
 */
function embeddedIpv4s(address: string): EmbeddedIpv4[] {
  const bytes = ipv6Bytes(address);
  const zero = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  const is = (prefix: number[]) => prefix.every((b, i) => bytes[i] === b);
  const last = bytes.slice(12);
  if (zero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return [{ ipv4: dotted(last), form: 'IPv4-mapped', translated: true }];
  }
  if (zero(0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && zero(10, 12)) {
    return [{ ipv4: dotted(last), form: 'IPv4-translated (SIIT)', translated: true }];
  }
  // ::/96 but not :: and ::1, which the ranges name precisely.
  if (zero(0, 12) && !(zero(12, 15) && (bytes[15] === 0 || bytes[15] === 1))) {
    return [{ ipv4: dotted(last), form: 'IPv4-compatible', translated: true }];
  }
  if (is([0, 0x64, 0xff, 0x9b]) && zero(4, 12)) {
    return [{ ipv4: dotted(last), form: 'NAT64', translated: true }];
  }
  if (is([0x20, 0x02])) {
    return [{ ipv4: dotted(bytes.slice(2, 6)), form: '6to4', translated: false }];
  }
  if (is([0x20, 0x01, 0x00, 0x00])) {
    return [
      { ipv4: dotted(bytes.slice(4, 8)), form: 'Teredo server', translated: false },
      { ipv4: dotted(last.map((b) => b ^ 0xff)), form: 'Teredo client', translated: false },
    ];
  }
  return [];
}

/** Why `address` (an IP) may not be dialled, e.g. "loopback"; null when it may. */
export function forbiddenAddressKind(address: string): string | null {
  const type = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : null;
  if (type === null) return 'not an IP address';
  if (type === 'ipv6') {
    const embedded = embeddedIpv4s(address);
    for (const { ipv4, form } of embedded) {
      const inner = forbiddenAddressKind(ipv4);
      if (inner !== null) return `${inner} (${ipv4}, embedded as ${form})`;
    }
    // A translated address is the IPv4 address it carries, which passed; the IPv6 ranges below
    // would only misread it. Tunnelled ones (6to4, Teredo) are IPv6 addresses in their own right.
    if (embedded.some((e) => e.translated)) return null;
  }
  if (!FORBIDDEN.check(address, type)) return null;
  const kind = RANGES.find(([range, prefix, rangeType]) => {
    if (rangeType !== type) return false;
    const single = new net.BlockList();
    single.addSubnet(range, prefix, rangeType);
    return single.check(address, type);
  });
  return kind?.[3] ?? 'reserved';
}

export type DestinationCheck =
  | { ok: true; addresses: string[] }
  /** originalCode: the resolver's (ENOTFOUND, ESERVFAIL, ETIMEOUT…), for classify.ts. */
  | { ok: false; code: 'ECONFIG' | 'EDNS'; message: string; originalCode?: string };

/**
 * What can be told without DNS: a port outside SMTP_ALLOWED_PORTS, or a host that is itself a
 * forbidden IP address. configureSmtp refuses those at once rather than storing a configuration
 * every message would fail on; names are resolved (and checked) on each connection.
 */
export function staticDestinationProblem(
  host: string,
  port: number,
  policy: DestinationPolicy,
): string | null {
  if (policy.allowedPorts !== null && !policy.allowedPorts.includes(port)) {
    return `port ${port} is not allowed for SMTP (SMTP_ALLOWED_PORTS: ${policy.allowedPorts.join(', ')})`;
  }
  if (policy.disallowPrivateIps && net.isIP(host) !== 0) {
    const kind = forbiddenAddressKind(host);
    if (kind !== null) {
      return `${host} is a ${kind} address, which SMTP_DISALLOW_PRIVATE_IPS=true forbids`;
    }
  }
  return null;
}

/**
 * Resolves `host` once and checks port and addresses. With the private-range rule on, a host
 * with any forbidden address is refused (not just skipped): a name that mixes public and private
 * answers is a rebinding attempt or a mistake.
 */
export async function checkDestination(
  host: string,
  port: number,
  policy: DestinationPolicy,
): Promise<DestinationCheck> {
  const problem = staticDestinationProblem(host, port, policy);
  if (problem !== null) return { ok: false, code: 'ECONFIG', message: problem };
  let addresses: string[];
  try {
    addresses = net.isIP(host) ? [host] : await lookupHost(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    return {
      ok: false,
      code: 'EDNS',
      message: `cannot resolve the host name ${host}${code ? ` (${code})` : ''}`,
      ...(code ? { originalCode: code } : {}),
    };
  }
  if (policy.disallowPrivateIps) {
    for (const address of addresses) {
      const kind = forbiddenAddressKind(address);
      if (kind !== null) {
        return {
          ok: false,
          code: 'ECONFIG',
          message: `${host} resolves to a ${kind} address, which SMTP_DISALLOW_PRIVATE_IPS=true forbids`,
        };
      }
    }
  }
  return { ok: true, addresses };
}

/**
 * Nodemailer's `getSocket`: checks the destination, then connects a plain TCP socket to the
 * checked address. Nodemailer runs TLS over it (implicit or STARTTLS) with the host name as the
 * TLS server name, so certificates are still checked against the name.
 */
export function guardedSocketFactory(
  policy: DestinationPolicy,
  timeoutMs: number,
): SMTPTransportGetSocket {
  return (options, callback): void => {
    const host = options.host ?? 'localhost';
    const port = Number(options.port ?? 587);
    void checkDestination(host, port, policy).then((check) => {
      if (!check.ok) {
        const { code, originalCode } = check;
        callback(Object.assign(new Error(check.message), { code, originalCode }));
        return;
      }
      const socket = net.connect({ host: check.addresses[0]!, port });
      const timer = setTimeout(() => {
        socket.destroy();
        callback(
          Object.assign(new Error(`connect ETIMEDOUT ${host}:${port}`), {
            code: 'ETIMEDOUT',
            timeoutType: 'CONNECT_TIMEOUT',
          }),
        );
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        callback(null, { connection: socket });
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        callback(error);
      });
    });
  };
}
