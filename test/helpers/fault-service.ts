import assert from 'node:assert/strict';
import type { TestService } from './service.ts';
import { waitFor } from './wait-for.ts';

// GraphQL calls the in-process fault tests share.

export const MESSAGE_FIELDS = `id status attempts messageId
  dispatches { attempt succeeded at durationMs error { code message } }`;

export async function sendOne(svc: TestService, to: string, subject = 'fault'): Promise<any> {
  const result = await svc.gql(
    `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id messageId } }`,
    { input: { to, subject, text: 'x' } },
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.sendEmail;
}

export async function readMessage(svc: TestService, id: string): Promise<any> {
  return (await svc.gql(`query ($id: ID!) { message(id: $id) { ${MESSAGE_FIELDS} } }`, { id })).data
    .message;
}

/** Waits until every message has the status; returns them as they are then. */
export async function waitForStatus(
  svc: TestService,
  ids: readonly string[],
  status: string,
  timeoutMs = 20_000,
): Promise<any[]> {
  return waitFor(
    async () => {
      const messages = await Promise.all(ids.map((id) => readMessage(svc, id)));
      return messages.every((m) => m.status === status) ? messages : null;
    },
    { timeoutMs, description: `${ids.length} messages to be ${status}` },
  );
}
