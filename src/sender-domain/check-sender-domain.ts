/**
 * checkSenderDomain: what a receiver will find in the sender's DNS, item by item, with the
 * record to publish for each one missing or wrong. It reads DNS only and stores nothing.
 */
import type { DnsResolver } from '../dns/resolver.ts';
import { checkDkim, type OwnDkim } from './dkim-check.ts';
import { checkDmarc } from './dmarc-check.ts';
import { organisationalDomain } from './organisational-domain.ts';
import type { ProviderDns } from './providers.ts';
import { checkReturnPath } from './return-path-check.ts';
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
  /** BOUNCE_DOMAIN: the envelope sender's domain when our own server sends (GENERIC). */
  bounceDomain: string | null;
}

export async function checkSenderDomain(
  resolver: DnsResolver,
  request: SenderDomainRequest,
): Promise<SenderDomainReport> {
  const { domain, provider } = request;
  const [spf, dkimFacts, dmarc, returnPathFacts] = await Promise.all([
    checkSpf(resolver, domain, provider, request.serverHost),
    checkDkim(resolver, domain, provider, request.dkimSelectors, request.ownDkim),
    checkDmarc(resolver, domain, provider),
    checkReturnPath(resolver, domain, provider, request.serverHost, request.bounceDomain),
  ]);
  const returnPath = returnPathFacts.item;
  const dkim = dkimFacts.item;
  const bounceDomain = returnPathFacts.bounceDomain;

  // DMARC passes when DKIM (d= under the From domain) or SPF (on the envelope domain) aligns.
  // Our own signature's d= may be the organisational domain: relaxed alignment only.
  const own = request.ownDkim;
  const signingDomain =
    own !== null && provider.id === 'GENERIC' && request.dkimSelectors.length === 0
      ? own.domain
      : domain;
  // A broken selector fails only the mail signed with it: one that verifies is enough.
  const dkimAligned =
    dkimFacts.verifies &&
    !(dmarc.strictDkim && provider.signsFromSubdomain) &&
    !(dmarc.strictDkim && signingDomain !== domain);
  // With BOUNCE_DOMAIN, SPF is checked on it: it aligns (relaxed) when it shares the From
  // domain's organisational domain, never under aspf=s.
  const bounceAligned =
    bounceDomain !== null &&
    !dmarc.strictSpf &&
    organisationalDomain(bounceDomain) === organisationalDomain(domain);
  const spfAligned =
    bounceDomain !== null
      ? returnPathFacts.bounceSpfPasses && bounceAligned
      : provider.envelope === 'from'
        ? spf.passes && spf.item.status !== 'WARNING'
        : returnPath.status === 'OK' && !dmarc.strictSpf;
  const ways = [
    dkimAligned
      ? `DKIM (d=${signingDomain}${dkimFacts.failing.length > 0 ? `; not for mail signed through ${dkimFacts.failing.join(', ')}, which fails` : ''})`
      : null,
    spfAligned ? (bounceDomain !== null ? `SPF (return path ${bounceDomain})` : 'SPF') : null,
  ].filter((w): w is string => w !== null);
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
            : `neither DKIM nor the return path aligns with From ${domain}: DMARC fails, and Gmail, Yahoo and Outlook reject or junk the mail` +
              (bounceDomain !== null && !bounceAligned
                ? ` (SPF is checked on the return path ${bounceDomain}, BOUNCE_DOMAIN, which ${dmarc.strictSpf ? 'is not the From domain, as aspf=s requires' : `is not under ${organisationalDomain(domain)}`})`
                : ''),
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
      "not checked separately: the MX bounces need is the return path's (BOUNCE_DOMAIN's when it is set), looked up under RETURN_PATH",
    hint: null,
  };
  const checks = [spf.item, dkim, dmarc.item, returnPath, alignment, mx];
  return { domain, ready: !checks.some((c) => isBlocking(c.status)), checks };
}
