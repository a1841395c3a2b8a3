/**
 * checkSenderDomain: what a receiver will find in the sender's DNS, item by item, with the
 * record to publish for each one missing or wrong. It reads DNS only and stores nothing.
 */
import type { DnsResolver } from '../dns/resolver.ts';
import { checkDkim, type OwnDkim } from './dkim-check.ts';
import { checkDmarc, organisationalDomain } from './dmarc-check.ts';
import type { ProviderDns } from './providers.ts';
import { checkSpf } from './spf-check.ts';
import { isBlocking, type SenderCheckItem, type SenderDomainReport } from './types.ts';

export interface SenderDomainRequest {
  domain: string;
  provider: ProviderDns;
  /** dkimSelectors (SES: the Easy DKIM tokens). */
  dkimSelectors: readonly string[];
  /** The configured SMTP host, for GENERIC's SPF. */
  serverHost: string | null;
  /** Our signing key, when mailscope signs for this domain. */
  ownDkim: OwnDkim | null;
}

const norm = (name: string) => name.toLowerCase().replace(/\.$/, '');

async function checkReturnPath(
  resolver: DnsResolver,
  request: SenderDomainRequest,
): Promise<SenderCheckItem> {
  const { domain, provider } = request;
  const want = provider.returnPath(domain);
  if (want === null) {
    if (provider.envelope === 'from') {
      const mx = await resolver.mx(domain);
      if (mx.kind === 'tempfail') {
        return {
          name: 'RETURN_PATH',
          status: 'TEMPFAIL',
          found: [],
          expected: null,
          detail: `${domain} MX: ${mx.reason}`,
          hint: 'try again',
        };
      }
      const found =
        mx.kind === 'found'
          ? mx.records.map((r) => `${domain} MX ${r.priority} ${norm(r.exchange)}`)
          : [];
      return {
        name: 'RETURN_PATH',
        status: found.length > 0 ? 'OK' : 'WARNING',
        found,
        expected: null,
        detail:
          `the envelope sender is the From address, so the return path is ${domain} (SPF above covers it)` +
          (found.length > 0 ? '' : `; ${domain} has no MX record, so bounces have nowhere to go`),
        hint: found.length > 0 ? null : `publish an MX record for ${domain} so bounces come back`,
      };
    }
    return {
      name: 'RETURN_PATH',
      status: 'SKIPPED',
      found: [],
      expected: null,
      detail: provider.returnPathUnknown ?? 'not known',
      hint: null,
    };
  }
  const answer =
    want.kind === 'MX' ? await resolver.mx(want.name) : await resolver.cname(want.name);
  if (answer.kind === 'tempfail') {
    return {
      name: 'RETURN_PATH',
      status: 'TEMPFAIL',
      found: [],
      expected: null,
      detail: `${want.name} ${want.kind}: ${answer.reason}`,
      hint: 'try again',
    };
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
    return {
      name: 'RETURN_PATH',
      status: 'OK',
      found,
      expected: null,
      detail: `${want.name} points to ${provider.name}`,
      hint: null,
    };
  return {
    name: 'RETURN_PATH',
    status: found.length === 0 ? (want.optional ? 'WARNING' : 'MISSING') : 'INVALID',
    found,
    expected: want.expected,
    detail:
      found.length === 0
        ? `${want.name} has no ${want.kind} record for ${provider.name}`
        : `${want.name} points elsewhere than ${want.targets.join(', ')}`,
    hint: want.why,
  };
}

export async function checkSenderDomain(
  resolver: DnsResolver,
  request: SenderDomainRequest,
): Promise<SenderDomainReport> {
  const { domain, provider } = request;
  const [spf, dkim, dmarc, returnPath] = await Promise.all([
    checkSpf(resolver, domain, provider, request.serverHost),
    checkDkim(resolver, domain, provider, request.dkimSelectors, request.ownDkim),
    checkDmarc(resolver, domain, provider),
    checkReturnPath(resolver, request),
  ]);

  // DMARC passes when DKIM (d= under the From domain) or SPF (on the envelope domain) aligns.
  const dkimAligned =
    (dkim.status === 'OK' || dkim.status === 'WARNING') &&
    !(dmarc.strictDkim && provider.signsFromSubdomain);
  const spfAligned =
    provider.envelope === 'from'
      ? spf.passes && spf.item.status !== 'WARNING'
      : returnPath.status === 'OK' && !dmarc.strictSpf;
  const ways = [dkimAligned ? 'DKIM (d=' + domain + ')' : null, spfAligned ? 'SPF' : null].filter(
    (w): w is string => w !== null,
  );
  const tempfail = [spf.item, dkim, returnPath].some((c) => c.status === 'TEMPFAIL');
  const alignment: SenderCheckItem =
    ways.length > 0
      ? {
          name: 'ALIGNMENT',
          status: 'OK',
          found: [],
          expected: null,
          detail: `From ${domain} aligns through ${ways.join(' and ')}${organisationalDomain(domain) !== domain ? ` (organisational domain ${organisationalDomain(domain)})` : ''}`,
          hint: null,
        }
      : {
          name: 'ALIGNMENT',
          status: tempfail ? 'TEMPFAIL' : 'INVALID',
          found: [],
          expected: null,
          detail: tempfail
            ? 'not known: a record it depends on did not answer'
            : `neither DKIM nor the return path aligns with From ${domain}: DMARC fails, and Gmail, Yahoo and Outlook reject or junk the mail`,
          hint: tempfail
            ? 'try again'
            : 'fix the DKIM item above (or the return path), then check again',
        };

  const mx: SenderCheckItem = {
    name: 'MX',
    status: 'SKIPPED',
    found: [],
    expected: null,
    detail:
      'not checked: the MX bounce intake needs is that of BOUNCE_DOMAIN (the return path), pointing at the bounce listener, not one of the From domain',
    hint: null,
  };
  const checks = [spf.item, dkim, dmarc.item, returnPath, alignment, mx];
  return { domain, ready: !checks.some((c) => isBlocking(c.status)), checks };
}
