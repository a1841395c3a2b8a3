import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { startTestDnsServer, type TestDnsServer, type Zones } from '../helpers/dns-server.ts';
import { fileScope } from '../helpers/scope.ts';
import { startService, type TestService } from '../helpers/service.ts';

// checkSenderDomain through the API against an authoritative DNS server of the test's own on
// 127.0.0.1 (DNS_SERVERS): nothing here reaches the internet. One zone per case.

const publicKey = (bits: number) =>
  generateKeyPairSync('rsa', { modulusLength: bits })
    .publicKey.export({ type: 'spki', format: 'der' })
    .toString('base64');
const KEY_2048 = publicKey(2048);
const KEY_1024 = publicKey(1024);
const KEY_512 = publicKey(512);
// Its record is over 512 bytes and 255-byte strings: split in the zone, joined by the reader (over
// TCP when the resolver does not announce a larger UDP size).
const KEY_4096 = publicKey(4096);
const dkimTxt = (p: string) => ({ type: 'TXT' as const, value: `v=DKIM1; k=rsa; p=${p}` });
const txt = (value: string) => ({ type: 'TXT' as const, value });
const cname = (value: string) => ({ type: 'CNAME' as const, value });
const mx = (value: string) => ({ type: 'MX' as const, value });

/** The providers' own records, as their name servers publish them. */
const PROVIDER_ZONES: Zones = {
  'sendgrid.net': [txt('v=spf1 ip4:167.89.0.0/17 ip4:149.72.0.0/16 ~all')],
  'mailgun.org': [txt('v=spf1 ip4:69.72.32.0/20 ~all')],
  'amazonses.com': [txt('v=spf1 ip4:54.240.0.0/18 ~all')],
  'spf.mtasv.net': [txt('v=spf1 ip4:50.31.156.0/24 ~all')],
  's1.domainkey.u1.wl1.sendgrid.net': [dkimTxt(KEY_2048)],
  's2.domainkey.u1.wl1.sendgrid.net': [dkimTxt(KEY_2048)],
  'tok1.dkim.amazonses.com': [dkimTxt(KEY_2048)],
  'tok2.dkim.amazonses.com': [dkimTxt(KEY_2048)],
  'tok3.dkim.amazonses.com': [dkimTxt(KEY_2048)],
};

const dmarc = (domain: string, value = 'v=DMARC1; p=quarantine') => ({
  [`_dmarc.${domain}`]: [txt(value)],
});

/** A correct SendGrid setup for `domain`, with `override` replacing or removing names. */
function sendgrid(domain: string, override: Zones = {}, drop: string[] = []): Zones {
  const zones: Zones = {
    [domain]: [txt('v=spf1 include:sendgrid.net ~all')],
    [`s1._domainkey.${domain}`]: [cname('s1.domainkey.u1.wl1.sendgrid.net')],
    [`s2._domainkey.${domain}`]: [cname('s2.domainkey.u1.wl1.sendgrid.net')],
    ...dmarc(domain),
    ...override,
  };
  for (const name of drop) delete zones[name];
  return zones;
}

const ZONES: Zones = {
  ...PROVIDER_ZONES,
  ...sendgrid('sendgrid-ok.test'),
  // Mailgun: SPF, a TXT key at the selector from the console, MX for its bounces.
  'mailgun-ok.test': [
    txt('v=spf1 include:mailgun.org ~all'),
    mx('mxa.mailgun.org'),
    mx('mxb.mailgun.org'),
  ],
  'pic._domainkey.mailgun-ok.test': [dkimTxt(KEY_2048)],
  ...dmarc('mailgun-ok.test'),
  // SES: three CNAMEs to the tokens, a custom MAIL FROM.
  'ses-ok.test': [txt('v=spf1 include:amazonses.com ~all')],
  'tok1._domainkey.ses-ok.test': [cname('tok1.dkim.amazonses.com')],
  'tok2._domainkey.ses-ok.test': [cname('tok2.dkim.amazonses.com')],
  'tok3._domainkey.ses-ok.test': [cname('tok3.dkim.amazonses.com')],
  'mail.ses-ok.test': [mx('feedback-smtp.us-east-1.amazonses.com')],
  ...dmarc('ses-ok.test'),
  // Postmark: a TXT key and the pm-bounces return path.
  'postmark-ok.test': [txt('v=spf1 a include:spf.mtasv.net ~all')],
  '20240101pm._domainkey.postmark-ok.test': [dkimTxt(KEY_2048)],
  'pm-bounces.postmark-ok.test': [cname('pm.mtasv.net')],
  ...dmarc('postmark-ok.test'),
  'postmark-norp.test': [txt('v=spf1 include:spf.mtasv.net ~all')],
  '20240101pm._domainkey.postmark-norp.test': [dkimTxt(KEY_2048)],
  ...dmarc('postmark-norp.test'),
  // Our own server: authorised by its name (a:), and by nothing else in the second domain.
  'generic-ok.test': [txt('v=spf1 a:mail.generic-ok.test -all'), mx('mail.generic-ok.test')],
  'mail.generic-ok.test': [{ type: 'A', value: '203.0.113.7' }],
  'mail._domainkey.generic-ok.test': [dkimTxt(KEY_2048)],
  ...dmarc('generic-ok.test'),
  'generic-other.test': [txt('v=spf1 ip4:198.51.100.1 -all'), mx('mail.generic-ok.test')],
  // A null MX (RFC 7505): the domain accepts no mail, bounces included.
  'generic-null-mx.test': [txt('v=spf1 a:mail.generic-ok.test -all'), { ...mx('.'), priority: 0 }],
  'mail._domainkey.generic-null-mx.test': [dkimTxt(KEY_2048)],
  ...dmarc('generic-null-mx.test'),
  'mail._domainkey.generic-other.test': [dkimTxt(KEY_2048)],
  ...dmarc('generic-other.test'),
  // One record missing at a time.
  ...sendgrid('no-spf.test', {}, ['no-spf.test']),
  ...sendgrid('no-dkim.test', {}, ['s1._domainkey.no-dkim.test', 's2._domainkey.no-dkim.test']),
  ...sendgrid('no-dmarc.test', {}, ['_dmarc.no-dmarc.test']),
  // SPF that a text match gets wrong either way.
  ...sendgrid('two-spf.test', {
    'two-spf.test': [
      txt('v=spf1 include:sendgrid.net ~all'),
      txt('v=spf1 include:mailgun.org -all'),
    ],
  }),
  ...sendgrid('macro-spf.test', { 'macro-spf.test': [txt('v=spf1 include:_spf.%{d} ~all')] }),
  '_spf.macro-spf.test': [txt('v=spf1 include:sendgrid.net ~all')],
  ...sendgrid('plus-all.test', { 'plus-all.test': [txt('v=spf1 include:sendgrid.net +all')] }),
  // Broken or pass-everyone terms next to senders that work: the fix drops only the former.
  'keep.spf-fix.test': [txt('v=spf1 ip4:198.51.100.0/24 -all')],
  ...sendgrid('gone-include.test', {
    'gone-include.test': [
      txt('v=spf1 include:keep.spf-fix.test include:gone.spf-fix.test include:sendgrid.net -all'),
    ],
  }),
  ...sendgrid('spf-syntax.test', {
    'spf-syntax.test': [
      txt('v=spf1 include:keep.spf-fix.test ipv4:192.0.2.9 include:sendgrid.net ~all'),
    ],
  }),
  ...sendgrid('spf-void.test', {
    'spf-void.test': [
      txt(
        'v=spf1 a:nx1.spf-fix.test a:nx2.spf-fix.test a:nx3.spf-fix.test include:keep.spf-fix.test include:sendgrid.net ~all',
      ),
    ],
  }),
  ...sendgrid('spf-wide.test', {
    'spf-wide.test': [txt('v=spf1 ip4:0.0.0.0/0 include:sendgrid.net -all')],
  }),
  ...sendgrid('spf-redirect-all.test', {
    'spf-redirect-all.test': [txt('v=spf1 redirect=_spf.spf-redirect-all.test')],
    '_spf.spf-redirect-all.test': [txt('v=spf1 +all')],
  }),
  ...sendgrid('other-provider.test', {
    'other-provider.test': [txt('v=spf1 include:mailgun.org ~all')],
  }),
  ...sendgrid('many-lookups.test', {
    'many-lookups.test': [
      txt(
        `v=spf1 ${Array.from({ length: 11 }, (_, i) => `include:n${i}.many-lookups.test`).join(' ')} include:sendgrid.net ~all`,
      ),
    ],
    ...Object.fromEntries(
      Array.from({ length: 11 }, (_, i) => [
        `n${i}.many-lookups.test`,
        [txt(`v=spf1 ip4:198.51.100.${i} ~all`)],
      ]),
    ),
  }),
  // Keys.
  ...sendgrid('key-1024.test', { 's1._domainkey.key-1024.test': [dkimTxt(KEY_1024)] }),
  ...sendgrid('key-512.test', { 's1._domainkey.key-512.test': [dkimTxt(KEY_512)] }),
  // s1 right, s2 pointing elsewhere: mail SendGrid signs with s1 still aligns.
  ...sendgrid('one-bad-selector.test', {
    's2._domainkey.one-bad-selector.test': [cname('s2.dkim.example.net')],
  }),
  ...sendgrid('dkim-elsewhere.test', {
    's1._domainkey.dkim-elsewhere.test': [cname('s1.dkim.example.net')],
  }),
  ...sendgrid('key-4096.test', { 's1._domainkey.key-4096.test': [dkimTxt(KEY_4096)] }),
  // Records that name a 2048-bit RSA key but that receivers ignore, or that forbid SHA-256.
  ...sendgrid('key-dsa.test', {
    's1._domainkey.key-dsa.test': [txt(`v=DKIM1; k=dsa; p=${KEY_2048}`)],
  }),
  ...sendgrid('key-v2.test', {
    's1._domainkey.key-v2.test': [txt(`v=DKIM2; k=rsa; p=${KEY_2048}`)],
  }),
  ...sendgrid('key-sha1.test', {
    's1._domainkey.key-sha1.test': [txt(`v=DKIM1; k=rsa; h=sha1; p=${KEY_2048}`)],
  }),
  ...sendgrid('key-sha1-sha256.test', {
    's1._domainkey.key-sha1-sha256.test': [txt(`v=DKIM1; k=rsa; h=sha1:sha256; p=${KEY_2048}`)],
  }),
  ...sendgrid('key-ec-as-rsa.test', {
    's1._domainkey.key-ec-as-rsa.test': [
      dkimTxt(
        generateKeyPairSync('ec', { namedCurve: 'P-256' })
          .publicKey.export({ type: 'spki', format: 'der' })
          .toString('base64'),
      ),
    ],
  }),
  // DMARC.
  ...sendgrid(
    'dmarc-none.test',
    dmarc('dmarc-none.test', 'v=DMARC1; p=none; rua=mailto:d@dmarc-none.test'),
  ),
  ...sendgrid('aspf-strict.test', dmarc('aspf-strict.test', 'v=DMARC1; p=reject; aspf=s')),
  ...sendgrid(
    'dmarc-rua-only.test',
    dmarc('dmarc-rua-only.test', 'v=DMARC1; rua=mailto:d@dmarc-rua-only.test'),
  ),
  ...sendgrid('dmarc-no-p.test', dmarc('dmarc-no-p.test', 'v=DMARC1; adkim=r')),
  'mailgun-strict.test': [txt('v=spf1 include:mailgun.org ~all'), mx('mxa.mailgun.org')],
  'pic._domainkey.mailgun-strict.test': [dkimTxt(KEY_2048)],
  ...dmarc('mailgun-strict.test', 'v=DMARC1; p=reject; adkim=s'),
  // The organisational domain's record covers its subdomains.
  ...sendgrid('news.org-dmarc.test', {}, ['_dmarc.news.org-dmarc.test']),
  ...dmarc('org-dmarc.test', 'v=DMARC1; p=reject'),
  // ...with sp= for subdomains.
  ...sendgrid('news.sp-none.test', {}, ['_dmarc.news.sp-none.test']),
  ...dmarc('sp-none.test', 'v=DMARC1; p=reject; sp=none'),
  ...sendgrid('sp-none.test', dmarc('sp-none.test', 'v=DMARC1; p=reject; sp=none')),
  // Name servers that fail.
  'slow.test': 'TIMEOUT',
  'broken.test': 'SERVFAIL',
  // An include whose name server fails: not "no match", the whole evaluation is a temperror.
  ...sendgrid('include-servfail.test', {
    'include-servfail.test': [txt('v=spf1 include:spf.broken.test include:sendgrid.net ~all')],
  }),
};

let dns: TestDnsServer;
let service: TestService;

before(async () => {
  dns = await startTestDnsServer(fileScope, ZONES);
  service = await startService(fileScope, { DNS_SERVERS: dns.address, DNS_TIMEOUT_MS: '400' });
});

interface Item {
  name: string;
  status: string;
  found: string[];
  expected: string | null;
  detail: string;
  hint: string | null;
}
interface Report {
  domain: string;
  ready: boolean;
  checks: Item[];
}

type CheckArgs = { domain?: string; provider?: string; dkimSelectors?: string[] };

async function check(args: CheckArgs = {}, on: TestService = service) {
  const result = await on.gql<{ checkSenderDomain: Report }>(
    `query ($domain: String, $provider: String, $dkimSelectors: [String!]) {
       checkSenderDomain(domain: $domain, provider: $provider, dkimSelectors: $dkimSelectors) {
         domain ready checks { name status found expected detail hint } } }`,
    args,
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  const report = result.data!.checkSenderDomain;
  const item = (name: string) => report.checks.find((c) => c.name === name)!;
  const statuses = Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
  return { report, item, statuses };
}

const sg = (domain: string) => check({ domain, provider: 'SENDGRID' });

describe('a correct setup per provider preset is ready', () => {
  test('SendGrid: SPF include, the s1/s2 CNAMEs, DMARC', async () => {
    const { report, statuses, item } = await sg('sendgrid-ok.test');
    assert.deepEqual(statuses, {
      SPF: 'OK',
      DKIM: 'OK',
      DMARC: 'OK',
      RETURN_PATH: 'SKIPPED',
      ALIGNMENT: 'OK',
      MX: 'SKIPPED',
    });
    assert.equal(report.ready, true);
    assert.deepEqual(item('SPF').found, [
      'sendgrid-ok.test TXT "v=spf1 include:sendgrid.net ~all"',
    ]);
    assert.ok(
      item('DKIM').found.includes(
        's1._domainkey.sendgrid-ok.test CNAME s1.domainkey.u1.wl1.sendgrid.net',
      ),
    );
    assert.match(item('DKIM').detail, /2048-bit RSA/);
  });

  test('Mailgun (US) with its selector', async () => {
    const { report, statuses } = await check({
      domain: 'mailgun-ok.test',
      provider: 'MAILGUN_US',
      dkimSelectors: ['pic'],
    });
    assert.deepEqual(statuses, {
      SPF: 'OK',
      DKIM: 'OK',
      DMARC: 'OK',
      RETURN_PATH: 'OK',
      ALIGNMENT: 'OK',
      MX: 'SKIPPED',
    });
    assert.equal(report.ready, true);
  });

  test('Amazon SES with the three Easy DKIM tokens and a custom MAIL FROM', async () => {
    const { report, statuses } = await check({
      domain: 'ses-ok.test',
      provider: 'AMAZON_SES_US_EAST_1',
      dkimSelectors: ['tok1', 'tok2', 'tok3'],
    });
    assert.deepEqual(statuses, {
      SPF: 'OK',
      DKIM: 'OK',
      DMARC: 'OK',
      RETURN_PATH: 'OK',
      ALIGNMENT: 'OK',
      MX: 'SKIPPED',
    });
    assert.equal(report.ready, true);
  });

  test('SES without tokens says which ones to give, and the records to publish with them', async () => {
    const without = await check({ domain: 'ses-ok.test', provider: 'AMAZON_SES_US_EAST_1' });
    assert.equal(without.item('DKIM').status, 'MISSING');
    assert.match(without.item('DKIM').hint!, /three Easy DKIM tokens/);
    const wrong = await check({
      domain: 'ses-ok.test',
      provider: 'AMAZON_SES_US_EAST_1',
      dkimSelectors: ['tok9'],
    });
    assert.equal(wrong.item('DKIM').status, 'MISSING');
    assert.equal(
      wrong.item('DKIM').expected,
      'tok9._domainkey.ses-ok.test CNAME tok9.dkim.amazonses.com',
    );
  });

  test('Postmark with its selector and pm-bounces return path', async () => {
    const { report, statuses } = await check({
      domain: 'postmark-ok.test',
      provider: 'POSTMARK',
      dkimSelectors: ['20240101pm'],
    });
    assert.deepEqual(statuses, {
      SPF: 'OK',
      DKIM: 'OK',
      DMARC: 'OK',
      RETURN_PATH: 'OK',
      ALIGNMENT: 'OK',
      MX: 'SKIPPED',
    });
    assert.equal(report.ready, true);
  });

  test('own server (GENERIC): by default the configured sender domain, SPF evaluated for the server address', async () => {
    const configured = await service.gql(
      `mutation { configureSmtp(input: { connectionUri: "smtp://mail.generic-ok.test:587", fromAddress: "no-reply@generic-ok.test" }) { version } }`,
    );
    assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
    const ok = await check({ dkimSelectors: ['mail'] });
    assert.equal(ok.report.domain, 'generic-ok.test');
    assert.deepEqual(ok.statuses, {
      SPF: 'OK',
      DKIM: 'OK',
      DMARC: 'OK',
      RETURN_PATH: 'OK',
      ALIGNMENT: 'OK',
      MX: 'SKIPPED',
    });
    assert.match(ok.item('SPF').detail, /203\.0\.113\.7/);
    // A null MX: the return path refuses bounces.
    const nullMx = await check({ domain: 'generic-null-mx.test', dkimSelectors: ['mail'] });
    assert.equal(nullMx.item('RETURN_PATH').status, 'WARNING');
    assert.deepEqual(nullMx.item('RETURN_PATH').found, ['generic-null-mx.test MX 0 .']);
    assert.match(nullMx.item('RETURN_PATH').detail, /null MX \(RFC 7505\)/);
    // A record that does not name the server: SPF fails for it, and the fix keeps what was there.
    const other = await check({ domain: 'generic-other.test', dkimSelectors: ['mail'] });
    assert.equal(other.item('SPF').status, 'INVALID');
    assert.equal(
      other.item('SPF').expected,
      'generic-other.test TXT "v=spf1 ip4:198.51.100.1 a:mail.generic-ok.test -all"',
    );
  });

  test('the provider defaults to the preset recognised from the configured host', async () => {
    const configured = await service.gql(
      `mutation { configureSmtpProvider(input: { provider: "SENDGRID", password: "SG.test-key", fromAddress: "no-reply@sendgrid-ok.test" }) { version } }`,
    );
    assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
    const { report, item } = await check();
    assert.equal(report.domain, 'sendgrid-ok.test');
    assert.equal(report.ready, true);
    assert.match(item('SPF').detail, /SendGrid/);
  });

  test('the preset a configuration was made with comes before the host it names', async () => {
    // Made from a URI: no preset, so the host is recognised.
    const fromUri = await service.gql(
      `mutation { configureSmtp(input: { connectionUri: "smtp://apikey:SG.test-key@smtp.sendgrid.net:587/", fromAddress: "no-reply@sendgrid-ok.test" }) { provider } }`,
    );
    assert.equal(fromUri.errors, undefined, JSON.stringify(fromUri.errors));
    assert.equal(fromUri.data.configureSmtp.provider, null);
    assert.match((await check()).item('SPF').detail, /SendGrid/);

    // The generic preset pointed at SendGrid's host: generic, as it was made.
    const generic = await service.gql(
      `mutation { configureSmtpProvider(input: { provider: "GENERIC", username: "apikey", password: "SG.test-key", host: "smtp.sendgrid.net", fromAddress: "no-reply@sendgrid-ok.test" }) { provider } }`,
    );
    assert.equal(generic.errors, undefined, JSON.stringify(generic.errors));
    assert.equal(generic.data.configureSmtpProvider.provider, 'GENERIC');
    assert.doesNotMatch((await check()).item('SPF').detail, /SendGrid/);
    const listed = await service.gql(`{ smtpConfig { provider } }`);
    assert.equal(listed.data.smtpConfig.provider, 'GENERIC');
  });
});

describe('each record missing', () => {
  test('SPF missing: the record to publish', async () => {
    const { report, item } = await sg('no-spf.test');
    assert.equal(item('SPF').status, 'MISSING');
    assert.equal(item('SPF').expected, 'no-spf.test TXT "v=spf1 include:sendgrid.net ~all"');
    assert.equal(report.ready, false);
  });

  test('DKIM missing: both SendGrid CNAMEs expected, and alignment fails', async () => {
    const { report, item } = await sg('no-dkim.test');
    assert.equal(item('DKIM').status, 'MISSING');
    assert.match(
      item('DKIM').expected!,
      /^s1\._domainkey\.no-dkim\.test CNAME s1\.domainkey\.u<account number>/m,
    );
    assert.match(item('DKIM').expected!, /^s2\._domainkey\.no-dkim\.test CNAME/m);
    assert.equal(item('ALIGNMENT').status, 'INVALID');
    assert.equal(report.ready, false);
  });

  test('DMARC missing: p=none to start with', async () => {
    const { report, item } = await sg('no-dmarc.test');
    assert.equal(item('DMARC').status, 'MISSING');
    assert.equal(item('DMARC').expected, '_dmarc.no-dmarc.test TXT "v=DMARC1; p=none"');
    assert.equal(item('DMARC').detail, '_dmarc.no-dmarc.test has no DMARC record');
    assert.equal(report.ready, false);
  });

  test('return path missing (Postmark): a warning with the CNAME to publish', async () => {
    const { report, item } = await check({
      domain: 'postmark-norp.test',
      provider: 'POSTMARK',
      dkimSelectors: ['20240101pm'],
    });
    assert.equal(item('RETURN_PATH').status, 'WARNING');
    assert.equal(item('RETURN_PATH').expected, 'pm-bounces.postmark-norp.test CNAME pm.mtasv.net');
    assert.equal(report.ready, true);
  });
});

describe('SPF is evaluated, not matched as text', () => {
  test('two SPF records are a permanent error; the merged record is offered', async () => {
    const { item } = await sg('two-spf.test');
    assert.equal(item('SPF').status, 'INVALID');
    assert.equal(item('SPF').found.length, 2);
    assert.equal(
      item('SPF').expected,
      'two-spf.test TXT "v=spf1 include:sendgrid.net include:mailgun.org ~all"',
    );
  });

  test('an include reached through a macro counts', async () => {
    const { item } = await sg('macro-spf.test');
    assert.equal(item('SPF').status, 'OK', item('SPF').detail);
  });

  test('more than 10 look-ups is flagged', async () => {
    const { item } = await sg('many-lookups.test');
    assert.equal(item('SPF').status, 'INVALID');
    assert.match(item('SPF').detail, /more than 10 DNS look-ups/);
  });

  test('+all is flagged', async () => {
    const { item } = await sg('plus-all.test');
    assert.equal(item('SPF').status, 'INVALID');
    assert.equal(item('SPF').expected, 'plus-all.test TXT "v=spf1 include:sendgrid.net ~all"');
  });

  for (const [domain, expected, why] of [
    [
      'gone-include.test',
      'v=spf1 include:keep.spf-fix.test include:sendgrid.net -all',
      /include:gone\.spf-fix\.test/,
    ],
    [
      'spf-syntax.test',
      'v=spf1 include:keep.spf-fix.test include:sendgrid.net ~all',
      /ipv4:192\.0\.2\.9/,
    ],
    [
      'spf-void.test',
      'v=spf1 include:keep.spf-fix.test include:sendgrid.net ~all',
      /a:nx1\.spf-fix\.test, a:nx2/,
    ],
  ] as const) {
    test(`a permanent error: the record offered drops only what is broken (${domain})`, async () => {
      const { item } = await sg(domain);
      assert.equal(item('SPF').status, 'INVALID');
      assert.equal(item('SPF').expected, `${domain} TXT "${expected}"`);
      assert.match(item('SPF').detail, why);
    });
  }

  for (const [domain, expected, why] of [
    ['spf-wide.test', 'v=spf1 include:sendgrid.net -all', /ip4:0\.0\.0\.0\/0/],
    ['spf-redirect-all.test', 'v=spf1 include:sendgrid.net ~all', /redirect=_spf/],
  ] as const) {
    test(`a record that passes everyone is given a real fix (${domain})`, async () => {
      const { item } = await sg(domain);
      assert.equal(item('SPF').status, 'INVALID');
      assert.match(item('SPF').detail, why);
      assert.equal(item('SPF').expected, `${domain} TXT "${expected}"`);
    });
  }

  test('a record for another provider does not authorise this one', async () => {
    const { item } = await sg('other-provider.test');
    assert.equal(item('SPF').status, 'INVALID');
    assert.equal(
      item('SPF').expected,
      'other-provider.test TXT "v=spf1 include:mailgun.org include:sendgrid.net ~all"',
    );
  });
});

describe('DKIM keys', () => {
  test('a 1024-bit key is a warning', async () => {
    const { report, item } = await sg('key-1024.test');
    assert.equal(item('DKIM').status, 'WARNING');
    assert.match(item('DKIM').detail, /1024-bit/);
    assert.equal(report.ready, true);
  });

  test('a 4096-bit key (a record over 512 bytes, split in strings) is read whole', async () => {
    const { item } = await sg('key-4096.test');
    assert.equal(item('DKIM').status, 'OK');
    assert.match(item('DKIM').detail, /s1\._domainkey\.key-4096\.test: a 4096-bit RSA key/);
  });

  test('a key under 1024 bits is invalid', async () => {
    const { report, item } = await sg('key-512.test');
    assert.equal(item('DKIM').status, 'INVALID');
    assert.match(item('DKIM').detail, /512-bit/);
    assert.equal(report.ready, false);
  });

  for (const [domain, reason] of [
    ['key-dsa.test', /k=dsa is not a DKIM key type/],
    ['key-v2.test', /v=DKIM2: .*must be DKIM1/],
    ['key-sha1.test', /h=sha1 does not allow sha256/],
    ['key-ec-as-rsa.test', /p= is not a valid rsa public key/],
  ] as const) {
    test(`a record receivers cannot use with SHA-256 signatures is invalid: ${domain}`, async () => {
      const { report, item } = await sg(domain);
      assert.equal(item('DKIM').status, 'INVALID', item('DKIM').detail);
      assert.match(item('DKIM').detail, reason);
      assert.equal(report.ready, false);
      // s2 is right: mail signed with it still aligns, mail signed with s1 does not.
      assert.match(
        item('ALIGNMENT').detail,
        new RegExp(`not for mail signed through s1\\._domainkey\\.${domain.replace('.', '\\.')}`),
      );
    });
  }

  test('h= listing sha256 among others is fine', async () => {
    const { item } = await sg('key-sha1-sha256.test');
    assert.equal(item('DKIM').status, 'OK', item('DKIM').detail);
  });

  test('one broken selector of two: the DKIM item says so, but mail signed with the other aligns', async () => {
    const { item } = await sg('one-bad-selector.test');
    assert.equal(item('DKIM').status, 'INVALID');
    assert.match(item('DKIM').detail, /s2\.dkim\.example\.net/);
    assert.equal(item('ALIGNMENT').status, 'OK', item('ALIGNMENT').detail);
    assert.match(
      item('ALIGNMENT').detail,
      /not for mail signed through s2\._domainkey\.one-bad-selector\.test/,
    );
  });

  test("a SendGrid selector pointing elsewhere than SendGrid's name is invalid", async () => {
    const { item } = await sg('dkim-elsewhere.test');
    assert.equal(item('DKIM').status, 'INVALID');
    assert.match(item('DKIM').detail, /s1\.dkim\.example\.net/);
  });
});

describe('DMARC', () => {
  test('p=none is OK with a warning', async () => {
    const { report, item } = await sg('dmarc-none.test');
    assert.equal(item('DMARC').status, 'WARNING');
    assert.match(item('DMARC').detail, /p=none/);
    assert.equal(report.ready, true);
  });

  test('no p= but a usable rua=: receivers act as if p=none (RFC 7489 6.6.3), a warning', async () => {
    const { report, item } = await sg('dmarc-rua-only.test');
    assert.equal(item('DMARC').status, 'WARNING', item('DMARC').detail);
    assert.match(item('DMARC').detail, /no p= tag; .*as if it said p=none/);
    assert.equal(
      item('DMARC').expected,
      '_dmarc.dmarc-rua-only.test TXT "v=DMARC1; p=none; rua=mailto:d@dmarc-rua-only.test"',
    );
    assert.equal(report.ready, true);
  });

  test('no p= and no rua=: receivers ignore the record', async () => {
    const { item } = await sg('dmarc-no-p.test');
    assert.equal(item('DMARC').status, 'INVALID');
    assert.match(item('DMARC').detail, /no p= tag; receivers ignore the record/);
  });

  test('strict SPF alignment while the return path is a subdomain is warned', async () => {
    const { item } = await sg('aspf-strict.test');
    assert.equal(item('DMARC').status, 'WARNING');
    assert.match(item('DMARC').detail, /aspf=s/);
  });

  test('strict DKIM alignment with Mailgun (signs from its sending domain) is warned', async () => {
    const { item } = await check({
      domain: 'mailgun-strict.test',
      provider: 'MAILGUN_US',
      dkimSelectors: ['pic'],
    });
    assert.equal(item('DMARC').status, 'WARNING');
    assert.match(item('DMARC').detail, /adkim=s/);
  });

  test("the organisational domain's record covers a subdomain", async () => {
    const { item } = await sg('news.org-dmarc.test');
    assert.equal(item('DMARC').status, 'OK');
    assert.match(item('DMARC').detail, /organisational domain/);
    assert.deepEqual(item('DMARC').found, ['_dmarc.org-dmarc.test TXT "v=DMARC1; p=reject"']);
  });
});

describe('DMARC sp=', () => {
  test("a subdomain gets the organisational domain's sp=, not its p=", async () => {
    const { report, item } = await sg('news.sp-none.test');
    assert.equal(item('DMARC').status, 'WARNING');
    assert.match(
      item('DMARC').detail,
      /^_dmarc\.sp-none\.test \(the organisational domain\): sp=none/,
    );
    assert.equal(report.ready, true);
  });

  test('the organisational domain itself gets p=', async () => {
    const { item } = await sg('sp-none.test');
    assert.equal(item('DMARC').status, 'OK');
    assert.match(item('DMARC').detail, /p=reject/);
  });
});

describe('BOUNCE_DOMAIN: the envelope sender is in it, so it is the return path', () => {
  // Our own server, mail.vb.test; every message goes out as bounces+<token>@bounce.vb.test.
  const server = [{ type: 'A' as const, value: '203.0.113.9' }];
  const authorised = [txt('v=spf1 a:mail.vb.test -all'), mx('bounces.vb.test')];
  const zones = (bounce: Zones[string] = authorised): Zones => ({
    'mail.vb.test': server,
    'bounce.vb.test': bounce,
    'vb.test': authorised,
    ...dmarc('vb.test'),
    'other-vb.test': authorised,
    ...dmarc('other-vb.test'),
  });
  let bounceDns: TestDnsServer;
  let bounced: TestService;
  before(async () => {
    bounceDns = await startTestDnsServer(fileScope, zones());
    bounced = await startService(fileScope, {
      DNS_SERVERS: bounceDns.address,
      DNS_TIMEOUT_MS: '400',
      BOUNCE_DOMAIN: 'bounce.vb.test',
    });
    const configured = await bounced.gql(
      `mutation { configureSmtp(input: { connectionUri: "smtp://mail.vb.test:587", fromAddress: "app@other-vb.test" }) { version } }`,
    );
    assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
  });

  test('a From domain under another organisational domain: SPF cannot align', async () => {
    const { item, report } = await check({}, bounced);
    assert.equal(report.domain, 'other-vb.test');
    // The From domain's own SPF passes for the server, but receivers check bounce.vb.test's.
    assert.equal(item('SPF').status, 'OK');
    assert.equal(item('RETURN_PATH').status, 'OK');
    assert.match(item('RETURN_PATH').detail, /return path is bounce\.vb\.test/);
    assert.ok(item('RETURN_PATH').found.includes('bounce.vb.test MX 10 bounces.vb.test'));
    assert.equal(item('ALIGNMENT').status, 'INVALID');
    assert.match(
      item('ALIGNMENT').detail,
      /bounce\.vb\.test, BOUNCE_DOMAIN, which is not under other-vb\.test/,
    );
    assert.equal(report.ready, false);
  });

  test('a From domain sharing its organisational domain aligns through SPF (relaxed)', async () => {
    const { item } = await check({ domain: 'vb.test' }, bounced);
    assert.equal(item('ALIGNMENT').status, 'OK');
    assert.match(item('ALIGNMENT').detail, /SPF \(return path bounce\.vb\.test\)/);
  });

  test("the bounce domain's SPF must authorise the server; without MX bounces are lost", async () => {
    bounceDns.setZones(zones([txt('v=spf1 ip4:198.51.100.1 -all')]));
    const wrong = await check({ domain: 'vb.test' }, bounced);
    assert.equal(wrong.item('RETURN_PATH').status, 'INVALID');
    assert.equal(
      wrong.item('RETURN_PATH').expected,
      'bounce.vb.test TXT "v=spf1 ip4:198.51.100.1 a:mail.vb.test -all"',
    );
    assert.equal(wrong.item('ALIGNMENT').status, 'INVALID');

    bounceDns.setZones(zones([txt('v=spf1 a:mail.vb.test -all')]));
    const noMx = await check({ domain: 'vb.test' }, bounced);
    assert.equal(noMx.item('RETURN_PATH').status, 'WARNING');
    assert.match(noMx.item('RETURN_PATH').detail, /bounce\.vb\.test has no MX record/);
    assert.equal(noMx.item('ALIGNMENT').status, 'OK');

    bounceDns.setZones(zones([txt('v=spf1 a:mail.vb.test -all'), { ...mx('.'), priority: 0 }]));
    const nullMx = await check({ domain: 'vb.test' }, bounced);
    assert.equal(nullMx.item('RETURN_PATH').status, 'WARNING');
    assert.match(nullMx.item('RETURN_PATH').detail, /bounce\.vb\.test publishes a null MX/);
  });

  test('asked for Amazon SES: SES refuses the VERP envelope unless the bounce domain is verified there', async () => {
    bounceDns.setZones(zones());
    const ses = await check(
      { domain: 'vb.test', provider: 'AMAZON_SES_EU_WEST_1', dkimSelectors: ['tok1'] },
      bounced,
    );
    assert.equal(ses.item('RETURN_PATH').status, 'WARNING');
    assert.match(
      ses.item('RETURN_PATH').detail,
      /bounces\+<token>@bounce\.vb\.test; Amazon SES refuses every send from an envelope sender that is not a verified identity/,
    );
    assert.equal(
      ses.item('RETURN_PATH').hint,
      'verify bounce.vb.test as an identity in Amazon SES',
    );
  });
});

describe("mailscope's own DKIM signature", () => {
  // Signing with d=own-dkim.test; SPF does not name the server, so only DKIM can align.
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKey = signing.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const p = signing.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const ed = generateKeyPairSync('ed25519');
  const edDer = ed.publicKey.export({ type: 'spki', format: 'der' });
  const zones: Zones = {
    'ed._domainkey.own-dkim.test': [
      txt(`v=DKIM1; k=ed25519; p=${edDer.subarray(edDer.length - 32).toString('base64')}`),
    ],
    'mail.own-dkim.test': [{ type: 'A', value: '203.0.113.10' }],
    'own-dkim.test': [txt('v=spf1 ip4:198.51.100.7 -all'), mx('mail.own-dkim.test')],
    'news.own-dkim.test': [txt('v=spf1 ip4:198.51.100.7 -all'), mx('mail.own-dkim.test')],
    'sel._domainkey.own-dkim.test': [dkimTxt(p)],
    ...dmarc('own-dkim.test', 'v=DMARC1; p=reject'),
    'unaligned.test': [txt('v=spf1 ip4:198.51.100.7 -all'), mx('mail.own-dkim.test')],
    ...dmarc('unaligned.test', 'v=DMARC1; p=reject'),
  };
  let signer: TestService;
  const configure = async (
    fromAddress: string,
    dkim = { domain: 'own-dkim.test', selector: 'sel', privateKey },
  ) => {
    const configured = await signer.gql(
      `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
      {
        input: {
          connectionUri: 'smtp://mail.own-dkim.test:587',
          fromAddress,
          dkim,
        },
      },
    );
    assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
  };
  before(async () => {
    const ownDns = await startTestDnsServer(fileScope, zones);
    signer = await startService(fileScope, { DNS_SERVERS: ownDns.address, DNS_TIMEOUT_MS: '400' });
  });

  test('d= the organisational domain of a subdomain sender: the key is found there, and DKIM aligns (relaxed)', async () => {
    await configure('app@news.own-dkim.test');
    const { report, item } = await check({}, signer);
    assert.equal(report.domain, 'news.own-dkim.test');
    assert.equal(item('DKIM').status, 'OK', item('DKIM').detail);
    assert.match(item('DKIM').detail, /^sel\._domainkey\.own-dkim\.test: a 2048-bit RSA key/);
    assert.equal(item('ALIGNMENT').status, 'OK', item('ALIGNMENT').detail);
    assert.match(item('ALIGNMENT').detail, /DKIM \(d=own-dkim\.test\)/);
  });

  test('signing with an Ed25519 key only is a warning: not every receiver verifies it', async () => {
    await configure('app@own-dkim.test', {
      domain: 'own-dkim.test',
      selector: 'ed',
      privateKey: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    const { item } = await check({}, signer);
    assert.equal(item('DKIM').status, 'WARNING', item('DKIM').detail);
    assert.match(item('DKIM').detail, /Ed25519 .*treat the mail as unsigned/);
    assert.match(item('DKIM').hint!, /RSA/);
    // Receivers that do verify it see DKIM align.
    assert.equal(item('ALIGNMENT').status, 'OK');
  });

  test('d= unrelated to the From domain: said plainly, not "configure DKIM"', async () => {
    await configure('app@unaligned.test');
    const { item } = await check({}, signer);
    assert.equal(item('DKIM').status, 'INVALID');
    assert.match(
      item('DKIM').detail,
      /signs with d=own-dkim\.test .*does not align with From unaligned\.test/,
    );
    assert.equal(item('ALIGNMENT').status, 'INVALID');
  });
});

describe('DNS failures are TEMPFAIL, never MISSING', () => {
  for (const domain of ['slow.test', 'broken.test']) {
    test(domain, async () => {
      const { report, statuses } = await sg(domain);
      assert.equal(statuses['SPF'], 'TEMPFAIL');
      assert.equal(statuses['DKIM'], 'TEMPFAIL');
      assert.equal(statuses['DMARC'], 'TEMPFAIL');
      assert.equal(statuses['ALIGNMENT'], 'TEMPFAIL');
      assert.ok(!Object.values(statuses).includes('MISSING'));
      assert.equal(report.ready, false);
    });
  }
});

describe('a SERVFAIL inside the SPF record is TEMPFAIL too', () => {
  test('an include: whose name server answers SERVFAIL', async () => {
    const { report, item } = await sg('include-servfail.test');
    assert.equal(item('SPF').status, 'TEMPFAIL', item('SPF').detail);
    assert.match(item('SPF').detail, /SERVFAIL \(spf\.broken\.test TXT\)/);
    assert.equal(report.ready, false);
  });
});

describe('input', () => {
  test('an unknown provider, a bad domain and a bad selector are all reported', async () => {
    const result = await service.gql(
      `{ checkSenderDomain(domain: "not a domain", provider: "NOPE", dkimSelectors: ["a b"]) { ready } }`,
    );
    assert.equal(result.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
    const fields = (result.errors![0]!.extensions!['problems'] as { field: string }[]).map(
      (p) => p.field,
    );
    assert.deepEqual(fields.sort(), ['dkimSelectors[0]', 'domain', 'provider']);
  });

  test('a special-use name (the default mailscope.localhost) is refused, not looked up', async () => {
    const before = dns.queries.length;
    const result = await service.gql(
      `{ checkSenderDomain(domain: "mailscope.localhost") { ready } }`,
    );
    assert.equal(result.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
    assert.match(
      result.errors![0]!.message + JSON.stringify(result.errors![0]!.extensions),
      /local name/,
    );
    assert.equal(dns.queries.length, before);
  });

  test('every query went to the test DNS server', () => {
    assert.ok(dns.queries.some((q) => q === 'sendgrid-ok.test TXT'));
  });
});
