/**
 * The SPF record to suggest for one that fails (a permanent error) or passes everybody: the
 * published record with only the offending terms taken out, so that the other senders it
 * authorises keep working.
 */
import type { DnsResolver } from '../dns/resolver.ts';

const SPF_RECORD = /^v=spf1(\s|$)/i;
const MACRO = /%/;

/** RFC 7208 4.6.1 terms, loosely: a mechanism with its argument, or a modifier. */
const MECHANISM =
  /^[+~?-]?(all|include:[^\s/]+|exists:[^\s/]+|(a|mx)(:[^\s/]+)?(\/\d{1,2})?(\/\/\d{1,3})?|ptr(:[^\s/]+)?|ip4:\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|ip6:[0-9a-f:.]+(\/\d{1,3})?)$/i;
const MODIFIER = /^[a-z][a-z0-9_.-]*=\S*$/i;

export interface Repair {
  /** The record without the offending terms. */
  terms: string[];
  /** The terms taken out, for the detail. */
  dropped: string[];
}

/** A term that lets every address pass by itself. */
function passesAll(term: string): boolean {
  if (/^\+?all$/i.test(term)) return true;
  const ip4 = /^\+?ip4:[\d.]+\/(\d+)$/i.exec(term);
  if (ip4) return Number(ip4[1]) < 8;
  const ip6 = /^\+?ip6:[0-9a-f:.]+\/(\d+)$/i.exec(term);
  return ip6 !== null && Number(ip6[1]) < 16;
}

async function hasSpf(resolver: DnsResolver, name: string): Promise<boolean | 'unknown'> {
  const txt = await resolver.txt(name);
  if (txt.kind === 'tempfail') return 'unknown';
  return txt.kind === 'found' && txt.records.some((r) => SPF_RECORD.test(r));
}

/**
 * For a permanent error: terms that are not SPF, includes and redirects to names without an SPF
 * record, and a:/mx: names with no records (void look-ups, RFC 7208 4.6.4).
 */
export async function withoutBrokenTerms(resolver: DnsResolver, record: string): Promise<Repair> {
  const terms = record.trim().split(/\s+/).slice(1);
  const verdicts = await Promise.all(
    terms.map(async (term): Promise<boolean> => {
      if (!MECHANISM.test(term) && !MODIFIER.test(term)) return false;
      const target = /^[+~?-]?include:(.+)$/i.exec(term)?.[1] ?? /^redirect=(.+)$/i.exec(term)?.[1];
      if (target !== undefined && !MACRO.test(target)) {
        return (await hasSpf(resolver, target)) !== false;
      }
      const host = /^[+~?-]?(a|mx):([^/]+)/i.exec(term);
      if (host && !MACRO.test(host[2]!)) {
        const answer =
          host[1]!.toLowerCase() === 'mx'
            ? await resolver.mx(host[2]!)
            : await resolver.addresses(host[2]!);
        return answer.kind !== 'none';
      }
      return true;
    }),
  );
  return {
    terms: terms.filter((_, i) => verdicts[i]),
    dropped: terms.filter((_, i) => !verdicts[i]),
  };
}

/** The term that passes everybody through `target`'s record (nested includes and redirects). */
async function passesEveryone(resolver: DnsResolver, term: string, depth = 0): Promise<boolean> {
  if (passesAll(term)) return true;
  const target = /^\+?include:(.+)$/i.exec(term)?.[1] ?? /^redirect=(.+)$/i.exec(term)?.[1];
  if (target === undefined || MACRO.test(target) || depth >= 10) return false;
  // Read as text: mailauth does not evaluate names such as _spf.example.com as a sender's domain.
  const txt = await resolver.txt(target);
  const record = txt.kind === 'found' ? txt.records.find((r) => SPF_RECORD.test(r)) : undefined;
  if (record === undefined) return false;
  const terms = record.trim().split(/\s+/).slice(1);
  for (const inner of terms) {
    if (/^[~?-]/.test(inner)) continue;
    if (await passesEveryone(resolver, inner, depth + 1)) return true;
  }
  return false;
}

/**
 * For a record that passes everybody: +all, ip4:/ip6: ranges wider than /8 and /16, and includes
 * or a redirect whose record passes everybody.
 */
export async function withoutPassAll(resolver: DnsResolver, record: string): Promise<Repair> {
  const terms = record.trim().split(/\s+/).slice(1);
  const verdicts = await Promise.all(
    terms.map(async (term) => !(await passesEveryone(resolver, term))),
  );
  return {
    terms: terms.filter((_, i) => verdicts[i]),
    dropped: terms.filter((_, i) => !verdicts[i]),
  };
}

/** v=spf1, the terms, `mechanism` unless already there, and an all (~all when there was none). */
export function recordFrom(terms: readonly string[], mechanism: string | null): string {
  const kept = [...terms];
  const hasAll = kept.some((t) => /^[+~?-]?all$/i.test(t));
  const hasRedirect = kept.some((t) => /^redirect=/i.test(t));
  if (mechanism !== null && !kept.some((t) => t.toLowerCase() === mechanism.toLowerCase())) {
    const at = kept.findIndex((t) => /^([+~?-]?all|redirect=)/i.test(t));
    kept.splice(at === -1 ? kept.length : at, 0, mechanism);
  }
  if (!hasAll && !hasRedirect) kept.push('~all');
  return ['v=spf1', ...kept].join(' ');
}
