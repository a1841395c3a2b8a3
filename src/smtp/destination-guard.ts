/**
 * Where SMTP connections may go. With SMTP_DISALLOW_PRIVATE_IPS an admin token (or a stolen one)
 * cannot make the service dial into its own network: loopback, private, link-local, CGNAT and
 * cloud-metadata addresses are refused. The check is on the address actually dialled: the host
 * is resolved once, every address checked, and the connection made to that address (the TLS
 * name stays the host name), so a DNS answer that changes between check and connect
 * (rebinding) changes nothing.
 */
import { lookup } from 'node:dns/promises';
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
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  // Embedded IPv4 (mapped, compatible, NAT64) is checked as the IPv4 address it carries, see
  // embeddedIpv4 (BlockList would match every IPv4 address against ::/96).
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

/** The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 IPv6 address, or null. */
function embeddedIpv4(address: string): string | null {
  const bytes = ipv6Bytes(address);
  const zeroUpTo = (n: number) => bytes.slice(0, n).every((b) => b === 0);
  const nat64 =
    [0, 0x64, 0xff, 0x9b].every((b, i) => bytes[i] === b) &&
    bytes.slice(4, 12).every((b) => b === 0);
  const mapped = zeroUpTo(10) && bytes[10] === 0xff && bytes[11] === 0xff;
  const compatible =
    zeroUpTo(12) &&
    bytes.slice(12).some((b, i) => b !== 0 && !(i === 3 && b === 1 && zeroUpTo(15)));
  return nat64 || mapped || compatible ? bytes.slice(12).join('.') : null;
}

/** Why `address` (an IP) may not be dialled, e.g. "loopback"; null when it may. */
export function forbiddenAddressKind(address: string): string | null {
  const type = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : null;
  if (type === null) return 'not an IP address';
  if (type === 'ipv6') {
    const v4 = embeddedIpv4(address);
    if (v4 !== null) {
      const inner = forbiddenAddressKind(v4);
      return inner === null ? null : `${inner} (IPv4 inside IPv6)`;
    }
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
  { ok: true; addresses: string[] } | { ok: false; code: 'ECONFIG' | 'EDNS'; message: string };

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
  if (policy.allowedPorts !== null && !policy.allowedPorts.includes(port)) {
    return {
      ok: false,
      code: 'ECONFIG',
      message: `port ${port} is not allowed for SMTP (SMTP_ALLOWED_PORTS: ${policy.allowedPorts.join(', ')})`,
    };
  }
  let addresses: string[];
  try {
    addresses = net.isIP(host)
      ? [host]
      : (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
  } catch {
    return { ok: false, code: 'EDNS', message: `cannot resolve the host name ${host}` };
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
        callback(Object.assign(new Error(check.message), { code: check.code }));
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
