/**
 * checkSenderDomain's defaults and input rules: the domain of the configured fromAddress and the
 * preset the configuration was made with (else the one recognised from its host), unless the
 * caller names them.
 */
import type { DnsResolver } from '../dns/resolver.ts';
import { checkSenderDomain } from '../sender-domain/check-sender-domain.ts';
import type { OwnDkim } from '../sender-domain/dkim-check.ts';
import type { DkimInfo } from '../smtp/dkim.ts';
import { organisationalDomain } from '../sender-domain/organisational-domain.ts';
import { providerDns } from '../sender-domain/providers.ts';
import type { SenderDomainReport } from '../sender-domain/types.ts';
import { presetInUse, SMTP_PROVIDERS } from '../smtp/providers.ts';
import type { InputProblem } from './input-rules.ts';
import type { SmtpSettings } from './smtp-settings.ts';

export interface SenderDomainCheckArgs {
  domain?: string | null | undefined;
  provider?: string | null | undefined;
  dkimSelectors?: readonly string[] | null | undefined;
}

export type SenderDomainCheckResult =
  { ok: true; report: SenderDomainReport } | { ok: false; problems: InputProblem[] };

export interface SenderDomainCheckerDeps {
  settings: Pick<SmtpSettings, 'current'>;
  resolver: DnsResolver;
  /** BOUNCE_DOMAIN: every message's envelope sender is in it, so it is the return path. */
  bounceDomain: string | null;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const SELECTOR = /^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*$/;
const MAX_SELECTORS = 10;

export function domainProblem(domain: string): string | null {
  if (domain.length > 253) return 'must be at most 253 characters';
  // Special-use names (RFC 6761) no receiver looks up: the default no-reply@mailscope.localhost.
  if (/(^|\.)(localhost|invalid)$/.test(domain)) {
    return `${domain} is a local name that receivers never look up; configure a fromAddress in your own domain, or give the domain`;
  }
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    return 'must be a domain name like example.com (use xn-- for non-ASCII names)';
  }
  return null;
}

/**
 * Our signing key, for the configured From domain (whatever d= is: one that does not align is
 * reported as such) and for any domain d= aligns with (relaxed: one organisational domain).
 */
function ownDkimFor(dkim: DkimInfo | null, domain: string, fromDomain: string): OwnDkim | null {
  if (dkim === null) return null;
  const aligned = organisationalDomain(dkim.domain) === organisationalDomain(domain);
  if (!aligned && domain !== fromDomain) return null;
  return { domain: dkim.domain, selector: dkim.selector, dnsRecordValue: dkim.dnsRecordValue };
}

export function createSenderDomainChecker(deps: SenderDomainCheckerDeps) {
  return {
    async check(args: SenderDomainCheckArgs): Promise<SenderDomainCheckResult> {
      const problems: InputProblem[] = [];
      const current = deps.settings.current();
      let domain = (args.domain ?? '').trim().toLowerCase().replace(/\.$/, '');
      if (args.domain == null) {
        domain = current?.fromAddress.split('@').pop()?.toLowerCase() ?? '';
        if (domain === '') {
          problems.push({
            field: 'domain',
            problem: 'no SMTP configuration to take it from; give the domain',
          });
        }
      } else {
        const problem = domainProblem(domain);
        if (problem) problems.push({ field: 'domain', problem });
      }
      const host = current?.endpoint.host.toLowerCase() ?? null;
      const providerId =
        args.provider ??
        (current && presetInUse(current.endpoint.host, current.provider)) ??
        'GENERIC';
      if (!SMTP_PROVIDERS.some((p) => p.id === providerId)) {
        problems.push({
          field: 'provider',
          problem: `unknown provider; use one of ${SMTP_PROVIDERS.map((p) => p.id).join(', ')}`,
        });
      }
      const selectors = [...(args.dkimSelectors ?? [])];
      if (selectors.length > MAX_SELECTORS) {
        problems.push({ field: 'dkimSelectors', problem: `at most ${MAX_SELECTORS} selectors` });
      }
      selectors.forEach((s, i) => {
        if (!SELECTOR.test(s)) {
          problems.push({
            field: `dkimSelectors[${i}]`,
            problem: 'must be a DNS label such as s1 or 2024a',
          });
        }
      });
      if (problems.length > 0) return { ok: false, problems };
      const provider = providerDns(providerId);
      const report = await checkSenderDomain(deps.resolver, {
        domain,
        provider,
        dkimSelectors: selectors,
        // Only the server in use is the one sending: a domain asked about for GENERIC with no
        // stored GENERIC server gets its SPF checked for validity only.
        serverHost: provider.id === 'GENERIC' && current && !current.embedded ? host : null,
        // When mailscope signs for this domain, the published key must be ours.
        ownDkim: ownDkimFor(
          current?.dkim ?? null,
          domain,
          current?.fromAddress.split('@').pop()?.toLowerCase() ?? '',
        ),
        bounceDomain: deps.bounceDomain,
      });
      return { ok: true, report };
    },
  };
}

export type SenderDomainChecker = ReturnType<typeof createSenderDomainChecker>;
