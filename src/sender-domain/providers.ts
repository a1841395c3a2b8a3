/**
 * What each provider preset needs in the sender's DNS: the SPF include it is authorised by, its
 * DKIM records and its return path. Records whose names carry an account number only the
 * provider's console shows (SendGrid's u<number>) are described with that placeholder.
 */

export interface DkimExpectation {
  /** e.g. s1._domainkey.example.com */
  name: string;
  /** CNAME: the provider holds the key; TXT: the key is published here. */
  kind: 'CNAME' | 'TXT';
  /** For a CNAME, the suffix its target must end with. */
  cnameSuffix: string | null;
  /** The record to publish, or null when only the provider's console knows it. */
  expected: string | null;
}

export interface ReturnPathExpectation {
  name: string;
  kind: 'CNAME' | 'MX';
  /** Targets that count as right (lower case, no trailing dot). */
  targets: string[];
  expected: string;
  /** Missing is a WARNING (optional but advised) rather than MISSING. */
  optional: boolean;
  /** Why it matters, for the hint. */
  why: string;
}

export interface ProviderDns {
  id: string;
  name: string;
  /** Include domains that authorise the provider; the first is the one to publish. */
  spfIncludes: string[];
  /** The provider's own return path carries SPF, so the From domain's SPF is advisory. */
  spfAdvisory: boolean;
  /** DKIM records for `domain`; selectors are dkimSelectors (SES: tokens). */
  dkim(domain: string, selectors: readonly string[]): DkimExpectation[];
  /** Null when the return path cannot be known from here (SendGrid's em<number>). */
  returnPath(domain: string): ReturnPathExpectation | null;
  /** Why there is no return path to check, when returnPath is null. */
  returnPathUnknown?: string;
  /** Where the envelope sender lives: 'from' (the From domain itself) or 'subdomain'. */
  envelope: 'from' | 'subdomain';
  /** DKIM d= is commonly a subdomain of the From domain (Mailgun's sending domain). */
  signsFromSubdomain: boolean;
  /** What to do when dkimSelectors are needed but not given. */
  selectorsHint: string | null;
}

const txtKey = (name: string) => `${name} TXT "v=DKIM1; k=rsa; p=<public key from the provider>"`;

const SENDGRID: ProviderDns = {
  id: 'SENDGRID',
  name: 'SendGrid',
  spfIncludes: ['sendgrid.net'],
  spfAdvisory: false,
  dkim: (domain, selectors) =>
    (selectors.length > 0 ? selectors : ['s1', 's2']).map((s) => ({
      name: `${s}._domainkey.${domain}`,
      kind: 'CNAME',
      cnameSuffix: '.sendgrid.net',
      expected: `${s}._domainkey.${domain} CNAME ${s}.domainkey.u<account number>.wl<number>.sendgrid.net`,
    })),
  returnPath: () => null,
  returnPathUnknown:
    "SendGrid's return path is em<number> under your domain, a CNAME to u<account number>.wl<number>.sendgrid.net; the number is shown under Settings, Sender Authentication",
  envelope: 'subdomain',
  signsFromSubdomain: false,
  selectorsHint: null,
};

const mailgun = (id: string, region: 'US' | 'EU'): ProviderDns => {
  const mx =
    region === 'EU'
      ? ['mxa.eu.mailgun.org', 'mxb.eu.mailgun.org']
      : ['mxa.mailgun.org', 'mxb.mailgun.org'];
  return {
    id,
    name: `Mailgun (${region})`,
    spfIncludes: region === 'EU' ? ['eu.mailgun.org', 'mailgun.org'] : ['mailgun.org'],
    spfAdvisory: false,
    dkim: (domain, selectors) =>
      selectors.map((s) => ({
        name: `${s}._domainkey.${domain}`,
        kind: 'TXT',
        cnameSuffix: null,
        expected: txtKey(`${s}._domainkey.${domain}`),
      })),
    returnPath: (domain) => ({
      name: domain,
      kind: 'MX',
      targets: mx,
      expected: mx.map((host) => `${domain} MX 10 ${host}`).join('\n'),
      optional: true,
      why: 'Mailgun sends with a return path in the sending domain and receives its bounces through these MX records',
    }),
    envelope: 'from',
    signsFromSubdomain: true,
    selectorsHint:
      "give the DKIM selector shown in Mailgun's domain settings (e.g. pic, mx, krs, smtp) as dkimSelectors",
  };
};

const ses = (id: string, region: string): ProviderDns => ({
  id,
  name: `Amazon SES (${region})`,
  spfIncludes: ['amazonses.com'],
  spfAdvisory: true,
  dkim: (domain, tokens) =>
    tokens.map((token) => ({
      name: `${token}._domainkey.${domain}`,
      kind: 'CNAME',
      cnameSuffix: '.dkim.amazonses.com',
      expected: `${token}._domainkey.${domain} CNAME ${token}.dkim.amazonses.com`,
    })),
  returnPath: (domain) => ({
    name: `mail.${domain}`,
    kind: 'MX',
    targets: [`feedback-smtp.${region}.amazonses.com`],
    expected: `mail.${domain} MX 10 feedback-smtp.${region}.amazonses.com`,
    optional: true,
    why: 'with a custom MAIL FROM domain (mail.<domain>, also with TXT "v=spf1 include:amazonses.com ~all") SPF aligns with your From domain; without it only DKIM aligns',
  }),
  envelope: 'subdomain',
  signsFromSubdomain: false,
  selectorsHint:
    'give the three Easy DKIM tokens from the SES console (the names before ._domainkey) as dkimSelectors',
});

const POSTMARK: ProviderDns = {
  id: 'POSTMARK',
  name: 'Postmark',
  spfIncludes: ['spf.mtasv.net'],
  spfAdvisory: true,
  dkim: (domain, selectors) =>
    selectors.map((s) => ({
      name: `${s}._domainkey.${domain}`,
      kind: 'TXT',
      cnameSuffix: null,
      expected: txtKey(`${s}._domainkey.${domain}`),
    })),
  returnPath: (domain) => ({
    name: `pm-bounces.${domain}`,
    kind: 'CNAME',
    targets: ['pm.mtasv.net'],
    expected: `pm-bounces.${domain} CNAME pm.mtasv.net`,
    optional: true,
    why: 'the custom Return-Path makes SPF align with your From domain',
  }),
  envelope: 'subdomain',
  signsFromSubdomain: false,
  selectorsHint:
    "give the DKIM selector from Postmark's Sender Signatures page (e.g. 20240101120000pm) as dkimSelectors",
};

export const GENERIC_DNS: ProviderDns = {
  id: 'GENERIC',
  name: 'your SMTP server',
  spfIncludes: [],
  spfAdvisory: false,
  dkim: (domain, selectors) =>
    selectors.map((s) => ({
      name: `${s}._domainkey.${domain}`,
      kind: 'TXT',
      cnameSuffix: null,
      expected: txtKey(`${s}._domainkey.${domain}`).replace(
        'from the provider',
        'of your signing key',
      ),
    })),
  // The envelope sender is the From address itself: SPF on the From domain is the return path's.
  returnPath: () => null,
  envelope: 'from',
  signsFromSubdomain: false,
  selectorsHint:
    'configure DKIM signing (configureSmtp with dkim), or give the selector your server signs with as dkimSelectors',
};

/** The DNS profile of a preset id from smtpProviders. */
export function providerDns(id: string): ProviderDns {
  if (id === 'SENDGRID') return SENDGRID;
  if (id === 'MAILGUN_US') return mailgun(id, 'US');
  if (id === 'MAILGUN_EU') return mailgun(id, 'EU');
  if (id === 'POSTMARK') return POSTMARK;
  if (id.startsWith('AMAZON_SES_')) {
    return ses(id, id.slice('AMAZON_SES_'.length).toLowerCase().replaceAll('_', '-'));
  }
  return GENERIC_DNS;
}
