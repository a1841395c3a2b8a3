/** DKIM: the provider's (or our own) selectors, each record read and its key measured. */
import { createPublicKey } from 'node:crypto';
import type { DnsResolver } from '../dns/resolver.ts';
import { organisationalDomain } from './organisational-domain.ts';
import type { DkimExpectation, ProviderDns } from './providers.ts';
import { txtRecord, worse, type SenderCheckItem, type SenderCheckStatus } from './types.ts';

/** Our own signing key, when mailscope signs for this domain. */
export interface OwnDkim {
  /** d=: the From domain, its organisational domain or a subdomain of that; or, misconfigured, none. */
  domain: string;
  selector: string;
  /** The TXT value to publish, `v=DKIM1; k=rsa; p=…`. */
  dnsRecordValue: string;
}

export function parseTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const at = part.indexOf('=');
    if (at > 0)
      tags.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).replace(/\s+/g, ''));
  }
  return tags;
}

/** The key types a DKIM record may name (RFC 6376 3.6.1, RFC 8463). */
const KEY_TYPES = ['rsa', 'ed25519'];

/** The key's size in bits, or null when p= is not a key of type k. */
export function keyBits(p: string, k: string): number | null {
  if (k === 'ed25519') return Buffer.from(p, 'base64').length === 32 ? 256 : null;
  if (k !== 'rsa') return null;
  const der = Buffer.from(p, 'base64');
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      const key = createPublicKey({ key: der, format: 'der', type });
      if (key.asymmetricKeyType !== 'rsa') return null;
      return key.asymmetricKeyDetails?.modulusLength ?? null;
    } catch {
      // try the next encoding
    }
  }
  return null;
}

/** What makes receivers ignore the record, or refuse SHA-256 signatures with it; null if none. */
function recordProblem(tags: Map<string, string>): string | null {
  const v = tags.get('v');
  if (v !== undefined && v.toUpperCase() !== 'DKIM1') {
    return `v=${v}: a DKIM key record's version must be DKIM1 (RFC 6376 3.6.1), so receivers ignore it`;
  }
  const k = (tags.get('k') ?? 'rsa').toLowerCase();
  if (!KEY_TYPES.includes(k)) {
    return `k=${k} is not a DKIM key type (rsa or ed25519): receivers cannot verify with it`;
  }
  const h = tags.get('h');
  if (h !== undefined && !h.toLowerCase().split(':').includes('sha256')) {
    return `h=${h} does not allow sha256, so receivers reject every ${k}-sha256 signature (the only hash signers use now)`;
  }
  return null;
}

interface SelectorResult {
  status: SenderCheckStatus;
  found: string[];
  detail: string;
  expected: string | null;
  /** For a WARNING other than a short key. */
  hint?: string;
}

export interface DkimFacts {
  item: SenderCheckItem;
  /**
   * A selector that mail is signed with verifies (OK or WARNING): DKIM can align through it
   * although another selector is broken. Our own signing uses one selector; a provider's are all
   * taken as in use.
   */
  verifies: boolean;
  /** The selectors that do not verify, when some others do. */
  failing: string[];
}

async function checkSelector(
  resolver: DnsResolver,
  want: DkimExpectation,
  own: OwnDkim | null,
): Promise<SelectorResult> {
  const found: string[] = [];
  let keyName = want.name;
  const cname = await resolver.cname(want.name);
  if (cname.kind === 'tempfail') {
    return { status: 'TEMPFAIL', found, detail: `${want.name}: ${cname.reason}`, expected: null };
  }
  if (cname.kind === 'found') {
    const target = cname.records[0]!.toLowerCase().replace(/\.$/, '');
    found.push(`${want.name} CNAME ${target}`);
    if (want.kind === 'CNAME' && want.cnameSuffix !== null && !target.endsWith(want.cnameSuffix)) {
      return {
        status: 'INVALID',
        found,
        detail: `${want.name} points to ${target}, not to a name under ${want.cnameSuffix.slice(1)}`,
        expected: want.expected,
      };
    }
    keyName = target;
  }
  const txt = await resolver.txt(keyName);
  if (txt.kind === 'tempfail') {
    return { status: 'TEMPFAIL', found, detail: `${keyName}: ${txt.reason}`, expected: null };
  }
  const records = txt.kind === 'found' ? txt.records.filter((r) => /(^|;)\s*p=/i.test(r)) : [];
  found.push(...records.map((r) => txtRecord(keyName, r)));
  if (records.length === 0) {
    return {
      status: 'MISSING',
      found,
      detail:
        cname.kind === 'found'
          ? `${want.name} points to ${keyName}, which has no DKIM key`
          : `${want.name} has no DKIM record`,
      expected: own ? txtRecord(want.name, own.dnsRecordValue) : want.expected,
    };
  }
  if (records.length > 1) {
    return {
      status: 'INVALID',
      found,
      detail: `${keyName} has ${records.length} DKIM records; receivers cannot tell which key to use`,
      expected: own ? txtRecord(want.name, own.dnsRecordValue) : want.expected,
    };
  }
  const tags = parseTags(records[0]!);
  const p = tags.get('p') ?? '';
  const k = (tags.get('k') ?? 'rsa').toLowerCase();
  const problem = recordProblem(tags);
  if (problem !== null) {
    return {
      status: 'INVALID',
      found,
      detail: `${want.name}: ${problem}`,
      expected: own ? txtRecord(want.name, own.dnsRecordValue) : want.expected,
    };
  }
  if (p === '') {
    return {
      status: 'INVALID',
      found,
      detail: `${want.name}: the key is revoked (empty p=)`,
      expected: own ? txtRecord(want.name, own.dnsRecordValue) : want.expected,
    };
  }
  if (own) {
    const ours = parseTags(own.dnsRecordValue).get('p');
    if (ours !== p) {
      return {
        status: 'INVALID',
        found,
        detail: `${want.name} publishes a different key from the one mailscope signs with: every signature fails`,
        expected: txtRecord(want.name, own.dnsRecordValue),
      };
    }
  }
  const bits = keyBits(p, k);
  if (bits === null) {
    return {
      status: 'INVALID',
      found,
      detail: `${want.name}: p= is not a valid ${k} public key`,
      expected: own ? txtRecord(want.name, own.dnsRecordValue) : want.expected,
    };
  }
  if (k === 'rsa' && bits < 1024) {
    return {
      status: 'INVALID',
      found,
      detail: `${want.name}: a ${bits}-bit RSA key; receivers ignore keys under 1024 bits (RFC 8301)`,
      expected: own ? null : want.expected,
    };
  }
  if (k === 'rsa' && bits < 2048) {
    return {
      status: 'WARNING',
      found,
      detail: `${want.name}: a ${bits}-bit RSA key; 2048 bits is the current recommendation`,
      expected: null,
    };
  }
  if (k === 'ed25519' && own) {
    return {
      status: 'WARNING',
      found,
      detail: `${want.name}: an Ed25519 key, the only one mailscope signs with; receivers that do not implement Ed25519 (RFC 8463) treat the mail as unsigned, so DKIM does not align there`,
      expected: null,
      hint: 'sign with an RSA key of 2048 bits (configureSmtp with dkim): every DKIM verifier must support RSA-SHA256 (RFC 6376)',
    };
  }
  return {
    status: 'OK',
    found,
    detail: `${want.name}: a ${bits}-bit ${k === 'rsa' ? 'RSA' : k} key`,
    expected: null,
  };
}

export async function checkDkim(
  resolver: DnsResolver,
  domain: string,
  provider: ProviderDns,
  selectors: readonly string[],
  own: OwnDkim | null,
): Promise<DkimFacts> {
  // Our own signing selector stands in for GENERIC's when none are given; its record is under the
  // signing domain (d=), which may be the From domain's organisational domain.
  const useOwn = own !== null && selectors.length === 0 && provider.id === 'GENERIC';
  const facts = (item: SenderCheckItem): DkimFacts => ({ item, verifies: false, failing: [] });
  if (useOwn && organisationalDomain(own.domain) !== organisationalDomain(domain)) {
    return facts({
      name: 'DKIM',
      status: 'INVALID',
      found: [],
      expected: null,
      detail: `mailscope signs with d=${own.domain} (selector ${own.selector}), which does not align with From ${domain}: DMARC cannot pass through DKIM`,
      hint: `configure DKIM signing (configureSmtp with dkim) for ${domain} or ${organisationalDomain(domain)}, and publish its record`,
    });
  }
  const wanted = useOwn
    ? provider.dkim(own.domain, [own.selector])
    : provider.dkim(domain, selectors);
  if (wanted.length === 0) {
    return facts({
      name: 'DKIM',
      status: 'MISSING',
      found: [],
      expected: null,
      detail: `no DKIM selector is known for ${domain} with ${provider.name}`,
      hint: provider.selectorsHint,
    });
  }
  const ownName = own ? `${own.selector}._domainkey.${own.domain}` : null;
  const results = await Promise.all(
    wanted.map((w) => checkSelector(resolver, w, w.name === ownName ? own : null)),
  );
  const status = results.map((r) => r.status).reduce(worse);
  const expected = results.flatMap((r) => (r.expected === null ? [] : [r.expected]));
  // When mailscope signs, mail carries its selector's signature only.
  const signedWith = wanted.some((w) => w.name === ownName)
    ? wanted.filter((w) => w.name === ownName)
    : wanted;
  const verifying = (i: number) => ['OK', 'WARNING'].includes(results[i]!.status);
  const verifies = signedWith.some((w) => verifying(wanted.indexOf(w)));
  const failing = verifies
    ? signedWith.filter((w) => !verifying(wanted.indexOf(w))).map((w) => w.name)
    : [];
  const item: SenderCheckItem = {
    name: 'DKIM',
    status,
    found: results.flatMap((r) => r.found),
    expected: expected.length > 0 ? expected.join('\n') : null,
    detail: results.map((r) => r.detail).join('; '),
    hint:
      status === 'OK'
        ? null
        : status === 'TEMPFAIL'
          ? 'try again; the DNS servers did not answer'
          : status === 'WARNING'
            ? (results.find((r) => r.hint !== undefined)?.hint ??
              'rotate to a 2048-bit key when you can')
            : provider.id === 'SENDGRID'
              ? "copy the exact CNAME values from SendGrid's Settings, Sender Authentication page"
              : "publish the record shown in expected; changes can take the record's TTL to be seen",
  };
  return { item, verifies, failing };
}
