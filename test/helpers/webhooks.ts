import assert from 'node:assert/strict';
import type { Scope } from './scope.ts';
import { startService, type TestService } from './service.ts';
import { startTestDnsServer } from './dns-server.ts';
import { startTestSmtpServer, type TestSmtpServer } from './smtp-server.ts';
import { waitFor } from './wait-for.ts';

export const API_TOKEN = 'bootstrap-token-for-webhook-tests';

export interface ProviderSetup {
  svc: TestService;
  smtp: TestSmtpServer;
}

/**
 * The service sending through a test SMTP server that answers at a provider's SMTP host name
 * (a test DNS server points that name at 127.0.0.1), so the stamps are those of that provider.
 */
export async function startProviderService(
  t: Scope,
  providerHost: string,
  env: Record<string, string>,
  appOptions: Parameters<typeof startService>[2] = {},
): Promise<ProviderSetup> {
  const smtp = await startTestSmtpServer(t);
  const dns = await startTestDnsServer(t, { [providerHost]: [{ type: 'A', value: '127.0.0.1' }] });
  const svc = await startService(
    t,
    {
      API_TOKEN,
      DNS_SERVERS: dns.address,
      SMTP_CONNECTION_URI: `smtp://${providerHost}:${smtp.port}/?disable_starttls=true`,
      ...env,
    },
    appOptions,
  );
  return { svc, smtp };
}

const SEND = `mutation($to: String!) { sendEmail(input: { to: $to, subject: "Hello", text: "hi" }) { id messageId } }`;
export const MESSAGE = `query($id: ID!) { message(id: $id) { id status outcome
  reports { outcome source bounceType enhancedStatus diagnostic remoteMta hint }
  events { status reason outcome } } }`;

/** Sends one message and waits until the SMTP server has it; its id, Message-ID and bytes. */
export async function sendOne(setup: ProviderSetup, to: string) {
  const sent = await setup.svc.gql(SEND, { to });
  assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
  const { id, messageId } = sent.data.sendEmail as { id: string; messageId: string };
  const mail = await waitFor(() => setup.smtp.received.find((m) => m.to.includes(to)), {
    description: `the SMTP server got the mail to ${to}`,
  });
  await waitFor(async () => (await setup.svc.gql(MESSAGE, { id })).data.message.status === 'SENT', {
    description: `message ${id} SENT`,
  });
  return { id, messageId, raw: mail.raw };
}

/** The value of a header in raw message text (unfolded), or null. */
export function headerOf(raw: string, name: string): string | null {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head
    .split(/\r?\n/)
    .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line === undefined ? null : line.slice(name.length + 1).trim();
}

export async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any }> {
  const response = await fetch(url, { method: 'POST', body, headers });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

/** What is stored: reports of every message, the unmatched ones, suppressions. */
export async function storedCounts(svc: TestService) {
  const result = await svc.gql(`{
    messages(first: 100) { edges { node { reports { outcome } } } }
    unmatchedReports(first: 100) { source }
    suppressions { totalCount } }`);
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  const edges = result.data.messages.edges as { node: { reports: unknown[] } }[];
  return {
    reports: edges.reduce((sum, e) => sum + e.node.reports.length, 0),
    unmatched: (result.data.unmatchedReports as unknown[]).length,
    suppressions: result.data.suppressions.totalCount as number,
  };
}

/** The service still answers after what a test sent it. */
export async function assertHealthy(svc: TestService): Promise<void> {
  const response = await fetch(`${svc.url}/healthz`);
  assert.equal(response.status, 200);
  const ping = await svc.gql(`{ messages(first: 1) { totalCount } }`);
  assert.equal(ping.errors, undefined);
}
