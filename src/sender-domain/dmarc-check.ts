/** DMARC at _dmarc.<domain>, or at the organisational domain's (RFC 7489 6.6.3). */
import type { DnsResolver } from '../dns/resolver.ts';
import { parseTags } from './dkim-check.ts';
import { organisationalDomain } from './organisational-domain.ts';
import type { ProviderDns } from './providers.ts';
import { txtRecord, type SenderCheckItem } from './types.ts';

export interface DmarcFacts {
  item: SenderCheckItem;
  strictDkim: boolean;
  strictSpf: boolean;
}

const POLICIES = ['none', 'quarantine', 'reject'];

/** rua= holds at least one mailto: (or https:) address to send aggregate reports to. */
function hasReportAddress(rua: string | undefined): boolean {
  return (rua ?? '')
    .split(',')
    .some(
      (uri) =>
        /^mailto:[^@\s!]+@[^@\s!]+\.[^@\s!]+(![\d]+[kmgt]?)?$/i.test(uri) ||
        /^https?:\/\/\S+$/i.test(uri),
    );
}

export async function checkDmarc(
  resolver: DnsResolver,
  domain: string,
  provider: ProviderDns,
): Promise<DmarcFacts> {
  const expected = txtRecord(`_dmarc.${domain}`, 'v=DMARC1; p=none');
  const fail = (item: Omit<SenderCheckItem, 'name'>): DmarcFacts => ({
    item: { name: 'DMARC', ...item },
    strictDkim: false,
    strictSpf: false,
  });
  const org = organisationalDomain(domain);
  const names = org === domain ? [domain] : [domain, org];
  let at: string | null = null;
  let records: string[] = [];
  for (const name of names) {
    const txt = await resolver.txt(`_dmarc.${name}`);
    if (txt.kind === 'tempfail') {
      return fail({
        status: 'TEMPFAIL',
        found: [],
        expected: null,
        detail: `_dmarc.${name} TXT: ${txt.reason}`,
        hint: 'try again',
      });
    }
    records = txt.kind === 'found' ? txt.records.filter((r) => /^v=DMARC1\s*(;|$)/i.test(r)) : [];
    if (records.length > 0) {
      at = name;
      break;
    }
  }
  if (at === null) {
    return fail({
      status: 'MISSING',
      found: [],
      expected,
      detail:
        names.length === 1
          ? `_dmarc.${domain} has no DMARC record`
          : `neither _dmarc.${names.join(' nor _dmarc.')} has a DMARC record`,
      hint: 'Gmail and Yahoo require a DMARC record (p=none at least) from bulk senders; start with p=none and add rua=mailto:<address> to receive reports',
    });
  }
  const found = records.map((r) => txtRecord(`_dmarc.${at}`, r));
  if (records.length > 1) {
    return fail({
      status: 'INVALID',
      found,
      expected,
      detail: `_dmarc.${at} has ${records.length} DMARC records; receivers then apply none of them`,
      hint: 'keep one record',
    });
  }
  const tags = parseTags(records[0]!);
  const policy = (tags.get('p') ?? '').toLowerCase();
  const where = at === domain ? `_dmarc.${domain}` : `_dmarc.${at} (the organisational domain)`;
  const spTag = tags.get('sp')?.toLowerCase();
  const badP = !POLICIES.includes(policy);
  if (badP || (spTag !== undefined && !POLICIES.includes(spTag))) {
    const what = badP
      ? tags.has('p')
        ? 'p= must be none, quarantine or reject'
        : 'the record has no p= tag'
      : 'sp= (the policy for subdomains) must be none, quarantine or reject';
    // RFC 7489 6.6.3: with a usable rua= receivers act as if the record said p=none.
    if (hasReportAddress(tags.get('rua'))) {
      const kept = records[0]!
        .split(';')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !/^(v|p|sp)\s*=/i.test(t));
      return fail({
        status: 'WARNING',
        found,
        expected: txtRecord(`_dmarc.${at}`, ['v=DMARC1', 'p=none', ...kept].join('; ')),
        detail: `${where}: ${what}; as it has rua=, receivers act as if it said p=none (RFC 7489 6.6.3): reports are sent, failing mail is still delivered`,
        hint: `${badP ? 'add p=none' : 'fix the sp= tag'}; once reports show your mail aligns, move to p=quarantine, then p=reject`,
      });
    }
    return fail({
      status: 'INVALID',
      found,
      expected,
      detail: `${where}: ${what}; receivers ignore the record`,
      hint: badP ? 'fix the p= tag' : 'fix the sp= tag',
    });
  }
  // A subdomain's policy is sp= when the record is the organisational domain's (RFC 7489 6.3).
  const sp = at !== domain ? spTag : undefined;
  const applied = sp ?? policy;
  const tag = sp !== undefined ? 'sp' : 'p';
  const strictDkim = tags.get('adkim')?.toLowerCase() === 's';
  const strictSpf = tags.get('aspf')?.toLowerCase() === 's';
  const warnings: string[] = [];
  if (applied === 'none')
    warnings.push(
      tag === 'sp'
        ? `sp=none applies to ${domain}, a subdomain: it only monitors, failing mail is still delivered, and nothing stops spoofing`
        : 'p=none only monitors: failing mail is still delivered, and nothing stops spoofing',
    );
  if (strictDkim && provider.signsFromSubdomain) {
    warnings.push(
      `adkim=s (strict) while ${provider.name} signs from its sending domain, often a subdomain: DKIM then does not align`,
    );
  }
  if (strictSpf && provider.envelope === 'subdomain') {
    warnings.push(
      `aspf=s (strict) while ${provider.name}'s return path is a subdomain: SPF never aligns`,
    );
  }
  return {
    item: {
      name: 'DMARC',
      status: warnings.length > 0 ? 'WARNING' : 'OK',
      found,
      expected: null,
      detail: `${where}: ${tag}=${applied}${tag === 'sp' ? ` (the policy for subdomains; p=${policy})` : ''}${warnings.length > 0 ? `; ${warnings.join('; ')}` : ''}`,
      hint:
        warnings.length === 0
          ? null
          : applied === 'none'
            ? `once reports show your mail aligns, move to ${tag}=quarantine, then ${tag}=reject`
            : 'use relaxed alignment (remove adkim=s / aspf=s)',
    },
    strictDkim,
    strictSpf,
  };
}
