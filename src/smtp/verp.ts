import { createHmac, timingSafeEqual } from 'node:crypto';

// VERP: each message goes out with its own envelope sender, `bounces+<token>@<domain>`, so a
// bounce names the message it is about whatever the returned copy still says. The token is
// `<id>-<mac>`, the mac an HMAC of the id under a key only this service holds: a token cannot be
// edited into another message's, and one that does not verify matches nothing.

const LOCAL_PREFIX = 'bounces+';
/** 15 bytes: 120 bits, far beyond guessing, in 24 base32 characters. */
const MAC_BYTES = 15;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** What a recipient address of a report says about the message it names. */
export type VerpMatch =
  | { kind: 'none' }
  | { kind: 'valid'; messageId: number }
  /** A token is there but does not verify: it must match nothing (no fall-back). */
  | { kind: 'invalid' };

export interface Verp {
  readonly domain: string;
  /** The envelope sender of message `id`. */
  address(id: number): string;
  /** The token alone (also sent as the DSN ENVID). */
  token(id: number): string;
  /** Reads a token (from a VERP address's local part or an ENVID). */
  verifyToken(token: string): VerpMatch;
  /** Reads a whole address: ours (`bounces+…@domain`) or not. */
  match(address: string): VerpMatch;
}

export function createVerp(domain: string, key: Buffer): Verp {
  const lowerDomain = domain.toLowerCase();
  const mac = (id: number) =>
    base32(createHmac('sha256', key).update(`verp:${id}`).digest().subarray(0, MAC_BYTES));
  const token = (id: number) => `${id}-${mac(id)}`;

  function verifyToken(candidate: string): VerpMatch {
    const found = /^(\d{1,15})-([a-z2-7]+)$/.exec(candidate.toLowerCase());
    if (!found) return { kind: 'invalid' };
    const id = Number(found[1]);
    const expected = Buffer.from(mac(id));
    const given = Buffer.from(found[2]!);
    if (!Number.isSafeInteger(id) || id < 1) return { kind: 'invalid' };
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { kind: 'invalid' };
    }
    return { kind: 'valid', messageId: id };
  }

  return {
    domain: lowerDomain,
    address: (id) => `${LOCAL_PREFIX}${token(id)}@${lowerDomain}`,
    token,
    verifyToken,
    match(address) {
      const at = address.lastIndexOf('@');
      if (at < 0) return { kind: 'none' };
      const local = address.slice(0, at).toLowerCase();
      if (address.slice(at + 1).toLowerCase() !== lowerDomain) return { kind: 'none' };
      if (!local.startsWith(LOCAL_PREFIX)) return { kind: 'none' };
      return verifyToken(local.slice(LOCAL_PREFIX.length));
    },
  };
}
