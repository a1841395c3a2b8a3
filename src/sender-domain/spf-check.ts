/**
 * SPF: exactly one record, evaluated by mailauth (includes, redirects and macros followed, as a
 * receiver would) rather than matched as text.
 */
import type { DnsResolver } from '../dns/resolver.ts';
import type { ProviderDns } from './providers.ts';
import { txtRecord, type SenderCheckItem } from './types.ts';
import { namedExport } from '../cjs-export.ts';
import { recordFrom, withoutBrokenTerms, withoutPassAll } from './spf-repair.ts';

/**
 * A documentation address (RFC 5737) no real record authorises: a record that passes it passes
 * everybody; evaluating with it walks the whole record, so every include it reaches is seen.
 */
const PROBE_IP = '192.0.2.1';
const SPF_RECORD = /^v=spf1(\s|$)/i;

export interface SpfFacts {
  item: SenderCheckItem;
  /** SPF authorises the sender (provider or server): the envelope can align through it. */
  passes: boolean;
  tempfail: boolean;
}

interface Evaluation {
  result: string;
  comment: string;
  lookups: number;
  /** Every name whose TXT record the evaluation read. */
  txtNames: Set<string>;
}

async function evaluate(resolver: DnsResolver, domain: string, ip: string): Promise<Evaluation> {
  const txtNames = new Set<string>();
  const tracing = async (name: string, type: string) => {
    if (type === 'TXT') txtNames.add(name.toLowerCase().replace(/\.$/, ''));
    return resolver.raw(name, type);
  };
  // Loaded on the first check, as DKIM signing is (src/smtp/dkim.ts): mailauth's SPF module and
  // its public-suffix list were a tenth of start-up, for a check an operator asks for now and then.
  const spf = namedExport<typeof import('mailauth/lib/spf/index.js').spf>(
    await import('mailauth/lib/spf/index.js'),
    'spf',
  );
  const result = await spf({
    sender: `postmaster@${domain}`,
    ip,
    helo: domain,
    mta: 'mailscope',
    resolver: tracing as never,
  });
  const lookups = (result as unknown as { lookups?: { count: number } }).lookups?.count ?? 0;
  return {
    result: result.status.result,
    comment: String(result.status.comment ?? ''),
    lookups,
    txtNames,
  };
}

/** The record with `mechanism` added before its `all` (or `redirect=`), or a new one. */
function withMechanism(record: string | null, mechanism: string): string {
  if (record === null) return `v=spf1 ${mechanism} ~all`;
  const terms = record.trim().split(/\s+/);
  const at = terms.findIndex((t, i) => i > 0 && /^([+~?-]?all|redirect=)/i.test(t));
  if (at === -1) return [...terms, mechanism, '~all'].join(' ');
  terms.splice(at, 0, mechanism);
  return terms.join(' ');
}

export async function checkSpf(
  resolver: DnsResolver,
  domain: string,
  provider: ProviderDns,
  serverHost: string | null,
): Promise<SpfFacts> {
  const item = (
    status: SenderCheckItem['status'],
    found: string[],
    detail: string,
    expected: string | null = null,
    hint: string | null = null,
  ): SenderCheckItem => ({ name: 'SPF', status, found, expected, detail, hint });
  const txt = await resolver.txt(domain);
  if (txt.kind === 'tempfail') {
    return {
      item: item(
        'TEMPFAIL',
        [],
        `${domain} TXT: ${txt.reason}`,
        null,
        "try again; if it persists, check the domain's name servers",
      ),
      passes: false,
      tempfail: true,
    };
  }
  const records = txt.kind === 'found' ? txt.records.filter((r) => SPF_RECORD.test(r)) : [];
  const found = records.map((r) => txtRecord(domain, r));

  // What would authorise the sender: the provider's include, or the server's address.
  let mechanism: string;
  let serverAddresses: string[] = [];
  if (provider.spfIncludes.length > 0) {
    mechanism = `include:${provider.spfIncludes[0]}`;
  } else if (serverHost !== null) {
    const addresses = await resolver.addresses(serverHost);
    serverAddresses = addresses.kind === 'found' ? addresses.records : [];
    if (/^[\d.]+$/.test(serverHost) || serverHost.includes(':')) serverAddresses = [serverHost];
    mechanism = serverHost.includes(':')
      ? `ip6:${serverHost}`
      : /^[\d.]+$/.test(serverHost)
        ? `ip4:${serverHost}`
        : `a:${serverHost}`;
  } else {
    mechanism = 'a:<your SMTP server>';
  }

  if (records.length === 0) {
    return {
      item: item(
        'MISSING',
        [],
        `${domain} has no SPF record`,
        txtRecord(domain, withMechanism(null, mechanism)),
        'receivers (Gmail, Yahoo, Outlook) reject or junk mail from domains without SPF',
      ),
      passes: false,
      tempfail: false,
    };
  }
  if (records.length > 1) {
    const merged = records
      .flatMap((r) => r.trim().split(/\s+/).slice(1))
      .filter((t) => !/^[+~?-]?all$/i.test(t));
    return {
      item: item(
        'INVALID',
        found,
        `${domain} has ${records.length} SPF records; more than one is a permanent error (RFC 7208 4.5), so SPF fails for every sender`,
        txtRecord(domain, ['v=spf1', ...new Set(merged), '~all'].join(' ')),
        'merge them into one record and delete the others',
      ),
      passes: false,
      tempfail: false,
    };
  }

  const record = records[0]!;
  const probe = await evaluate(resolver, domain, PROBE_IP);
  if (probe.result === 'temperror') {
    return {
      item: item(
        'TEMPFAIL',
        found,
        `SPF evaluation could not finish: ${probe.comment}`,
        null,
        'try again; a name the record includes did not answer',
      ),
      passes: false,
      tempfail: true,
    };
  }
  // The mechanism to add to a repaired record, when it is a real one.
  const needed = mechanism.includes('<') ? null : mechanism;
  if (probe.result === 'permerror') {
    const tooMany = /too many dns/i.test(probe.comment);
    // Only the broken terms go: the record's other senders keep working.
    const repair = tooMany ? null : await withoutBrokenTerms(resolver, record);
    const dropped = repair !== null && repair.dropped.length > 0 ? repair.dropped : null;
    return {
      item: item(
        'INVALID',
        found,
        tooMany
          ? `the record needs more than 10 DNS look-ups (RFC 7208 4.6.4): receivers stop and treat SPF as a permanent error`
          : `SPF evaluation fails: ${probe.comment.replace(/^mailscope: /, '')}` +
              (dropped ? ` (${dropped.join(', ')})` : ''),
        dropped ? txtRecord(domain, recordFrom(repair!.terms, needed)) : null,
        tooMany
          ? 'remove includes of services you no longer use, or replace includes with the ip4:/ip6: ranges they stand for'
          : dropped
            ? `remove ${dropped.join(' ')} (expected keeps the rest), or make ${dropped.length === 1 ? 'it' : 'them'} valid again`
            : 'correct the record so that every name it includes exists and has one SPF record',
      ),
      passes: false,
      tempfail: false,
    };
  }
  if (probe.result === 'pass' || /(^|\s)\+?all(\s|$)/i.test(record.replace(/^v=spf1/i, ''))) {
    const repair = await withoutPassAll(resolver, record);
    const dropped = repair.dropped.length > 0 ? repair.dropped : null;
    return {
      item: item(
        'INVALID',
        found,
        `the record authorises every address on the internet${dropped ? ` (${dropped.join(', ')})` : ''}: anyone may send as this domain`,
        dropped ? txtRecord(domain, recordFrom(repair.terms, needed)) : null,
        dropped
          ? `remove ${dropped.join(' ')} and end the record with ~all or -all`
          : 'name only the addresses and services that send your mail, and end the record with ~all or -all',
      ),
      passes: false,
      tempfail: false,
    };
  }

  let authorised: boolean;
  let whom: string;
  if (provider.spfIncludes.length > 0) {
    authorised = provider.spfIncludes.some((include) => probe.txtNames.has(include));
    whom = `${provider.name} (include:${provider.spfIncludes[0]})`;
  } else if (serverAddresses.length > 0) {
    const results = await Promise.all(serverAddresses.map((ip) => evaluate(resolver, domain, ip)));
    if (results.some((r) => r.result === 'temperror')) {
      return {
        item: item(
          'TEMPFAIL',
          found,
          "SPF evaluation for the server's addresses could not finish",
          null,
          'try again',
        ),
        passes: false,
        tempfail: true,
      };
    }
    authorised = results.some((r) => r.result === 'pass');
    whom = `${serverHost} (${serverAddresses.join(', ')})`;
  } else {
    return {
      item: item(
        'WARNING',
        found,
        `the record is valid (${probe.lookups} DNS look-ups); the SMTP server's addresses are unknown, so whether it is authorised was not checked`,
      ),
      passes: true,
      tempfail: false,
    };
  }
  if (!authorised) {
    const advisory = provider.spfAdvisory;
    return {
      item: item(
        advisory ? 'WARNING' : 'INVALID',
        found,
        `the record does not authorise ${whom}`,
        txtRecord(domain, withMechanism(record, mechanism)),
        advisory
          ? `${provider.name} sends with its own return path, so this only matters for mail sent from ${domain} itself`
          : 'receivers see SPF fail for every message sent through it',
      ),
      passes: advisory,
      tempfail: false,
    };
  }
  return {
    item: item('OK', found, `the record authorises ${whom} (${probe.lookups} of 10 DNS look-ups)`),
    passes: true,
    tempfail: false,
  };
}
