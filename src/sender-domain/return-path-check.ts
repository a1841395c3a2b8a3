/**
 * RETURN_PATH: the envelope sender's domain, where bounces go and where receivers check SPF.
 * Providers rewrite the envelope to a name of their own (Mailgun's MX, SES's custom MAIL FROM,
 * Postmark's pm-bounces); our own server sends mailscope's envelope: the From address, or with
 * BOUNCE_DOMAIN `bounces+<token>@BOUNCE_DOMAIN`.
 */
import type { DnsResolver } from '../dns/resolver.ts';
import type { ProviderDns } from './providers.ts';
import { sesReturnPathNotice } from './amazon-ses.ts';
import { checkSpf } from './spf-check.ts';
import type { SenderCheckItem } from './types.ts';

export interface ReturnPathFacts {
  item: SenderCheckItem;
  /**
   * The envelope domain whose SPF decides SPF alignment, when mailscope's own envelope goes out
   * (GENERIC) and it is not the From domain (BOUNCE_DOMAIN); null otherwise.
   */
  bounceDomain: string | null;
  /** SPF on bounceDomain authorises the server (not merely valid with the server unknown). */
  bounceSpfPasses: boolean;
}

const norm = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** RFC 7505: one MX of exchange "." says the domain accepts no mail at all. */
const isNullMx = (records: readonly { exchange: string }[]) =>
  records.length === 1 && norm(records[0]!.exchange) === '';

const tempfail = (detail: string): SenderCheckItem => ({
  name: 'RETURN_PATH',
  status: 'TEMPFAIL',
  found: [],
  expected: null,
  detail,
  hint: 'try again',
});

/** Where mail for `name` goes, as a sending MTA finds it: MX, else A/AAAA (RFC 5321 5.1). */
async function mailHosts(
  resolver: DnsResolver,
  name: string,
): Promise<
  | { kind: 'tempfail'; reason: string }
  | { kind: 'mx'; found: string[] }
  | { kind: 'implicit'; found: string[] }
  | { kind: 'none' }
  | { kind: 'null'; found: string[] }
> {
  const mx = await resolver.mx(name);
  if (mx.kind === 'tempfail') return mx;
  if (mx.kind === 'found' && isNullMx(mx.records))
    return { kind: 'null', found: [`${name} MX 0 .`] };
  if (mx.kind === 'found') {
    return {
      kind: 'mx',
      found: mx.records.map((r) => `${name} MX ${r.priority} ${norm(r.exchange)}`),
    };
  }
  const addresses = await resolver.addresses(name);
  if (addresses.kind === 'tempfail') return addresses;
  if (addresses.kind === 'none') return { kind: 'none' };
  return {
    kind: 'implicit',
    found: addresses.records.map((a) => `${name} ${a.includes(':') ? 'AAAA' : 'A'} ${a}`),
  };
}

/** BOUNCE_DOMAIN as a receiver meets it: its SPF must authorise the server, bounces need its MX. */
async function checkBounceDomain(
  resolver: DnsResolver,
  bounceDomain: string,
  provider: ProviderDns,
  serverHost: string | null,
): Promise<ReturnPathFacts> {
  const [spf, hosts] = await Promise.all([
    checkSpf(resolver, bounceDomain, provider, serverHost),
    mailHosts(resolver, bounceDomain),
  ]);
  const facts = (item: SenderCheckItem | Omit<SenderCheckItem, 'name'>): ReturnPathFacts => ({
    item: { ...item, name: 'RETURN_PATH' },
    bounceDomain,
    bounceSpfPasses: spf.passes && spf.item.status !== 'WARNING',
  });
  const envelope = `the envelope sender is bounces+<token>@${bounceDomain} (BOUNCE_DOMAIN), so the return path is ${bounceDomain}`;
  if (spf.tempfail) return facts(tempfail(`${envelope}; ${spf.item.detail}`));
  if (hosts.kind === 'tempfail') return facts(tempfail(`${bounceDomain} MX: ${hosts.reason}`));
  const found = [...spf.item.found, ...(hosts.kind === 'none' ? [] : hosts.found)];
  if (spf.item.status === 'MISSING' || spf.item.status === 'INVALID') {
    return facts({
      status: spf.item.status,
      found,
      expected: spf.item.expected,
      detail: `${envelope}, where receivers check SPF: ${spf.item.detail}`,
      hint: `publish the SPF record shown in expected for ${bounceDomain}`,
    });
  }
  const mailDetail =
    hosts.kind === 'mx'
      ? ''
      : hosts.kind === 'implicit'
        ? `; ${bounceDomain} has no MX record, so bounces go to its address records`
        : hosts.kind === 'null'
          ? `; ${bounceDomain} publishes a null MX (RFC 7505): it accepts no mail, so bounces are refused`
          : `; ${bounceDomain} has no MX record, so bounces have nowhere to go`;
  return facts({
    status:
      hosts.kind === 'none' || hosts.kind === 'null' || spf.item.status === 'WARNING'
        ? 'WARNING'
        : 'OK',
    found,
    expected: null,
    detail: `${envelope}; SPF there: ${spf.item.detail}${mailDetail}`,
    hint:
      hosts.kind === 'mx'
        ? null
        : `publish an MX record for ${bounceDomain} pointing at the bounce listener (BOUNCE_SMTP_PORT)`,
  });
}

export async function checkReturnPath(
  resolver: DnsResolver,
  domain: string,
  provider: ProviderDns,
  serverHost: string | null,
  bounceDomain: string | null,
): Promise<ReturnPathFacts> {
  const facts = await checkProviderReturnPath(resolver, domain, provider, serverHost, bounceDomain);
  if (bounceDomain === null || !provider.id.startsWith('AMAZON_SES_')) return facts;
  // SES keeps mailscope's envelope (VERP) only from a verified identity, else refuses the send.
  const { item } = facts;
  return {
    ...facts,
    item: {
      ...item,
      status: item.status === 'OK' || item.status === 'SKIPPED' ? 'WARNING' : item.status,
      detail: `${sesReturnPathNotice(bounceDomain)}; ${item.detail}`,
      hint: `verify ${bounceDomain} as an identity in Amazon SES`,
    },
  };
}

async function checkProviderReturnPath(
  resolver: DnsResolver,
  domain: string,
  provider: ProviderDns,
  serverHost: string | null,
  bounceDomain: string | null,
): Promise<ReturnPathFacts> {
  const want = provider.returnPath(domain);
  const facts = (item: SenderCheckItem | Omit<SenderCheckItem, 'name'>): ReturnPathFacts => ({
    item: { ...item, name: 'RETURN_PATH' },
    bounceDomain: null,
    bounceSpfPasses: false,
  });
  if (want === null) {
    if (provider.envelope === 'from') {
      if (bounceDomain !== null && bounceDomain !== domain) {
        return checkBounceDomain(resolver, bounceDomain, provider, serverHost);
      }
      const mx = await resolver.mx(domain);
      if (mx.kind === 'tempfail') return facts(tempfail(`${domain} MX: ${mx.reason}`));
      const found =
        mx.kind === 'found'
          ? mx.records.map((r) => `${domain} MX ${r.priority} ${norm(r.exchange) || '.'}`)
          : [];
      const nullMx = mx.kind === 'found' && isNullMx(mx.records);
      const receives = found.length > 0 && !nullMx;
      return facts({
        status: receives ? 'OK' : 'WARNING',
        found,
        expected: null,
        detail:
          (bounceDomain === null
            ? `the envelope sender is the From address, so the return path is ${domain} (SPF above covers it)`
            : `the envelope sender is bounces+<token>@${domain} (BOUNCE_DOMAIN, the From domain itself), so SPF above covers it`) +
          (receives
            ? ''
            : nullMx
              ? `; ${domain} publishes a null MX (RFC 7505): it accepts no mail, so bounces are refused`
              : `; ${domain} has no MX record, so bounces have nowhere to go`),
        hint: receives
          ? null
          : `publish an MX record for ${domain}${nullMx ? ' instead of the null MX' : ''} so bounces come back`,
      });
    }
    return facts({
      status: 'SKIPPED',
      found: [],
      expected: null,
      detail: provider.returnPathUnknown ?? 'not known',
      hint: null,
    });
  }
  const answer =
    want.kind === 'MX' ? await resolver.mx(want.name) : await resolver.cname(want.name);
  if (answer.kind === 'tempfail') {
    return facts(tempfail(`${want.name} ${want.kind}: ${answer.reason}`));
  }
  const found =
    answer.kind === 'none'
      ? []
      : answer.records.map((r) =>
          typeof r === 'string'
            ? `${want.name} CNAME ${norm(r)}`
            : `${want.name} MX ${r.priority} ${norm(r.exchange)}`,
        );
  const targets =
    answer.kind === 'none'
      ? []
      : answer.records.map((r) => norm(typeof r === 'string' ? r : r.exchange));
  const right = targets.length > 0 && targets.every((t) => want.targets.includes(t));
  if (right)
    return facts({
      status: 'OK',
      found,
      expected: null,
      detail: `${want.name} points to ${provider.name}`,
      hint: null,
    });
  return facts({
    status: found.length === 0 ? (want.optional ? 'WARNING' : 'MISSING') : 'INVALID',
    found,
    expected: want.expected,
    detail:
      found.length === 0
        ? `${want.name} has no ${want.kind} record for ${provider.name}`
        : `${want.name} points elsewhere than ${want.targets.join(', ')}`,
    hint: want.why,
  });
}
