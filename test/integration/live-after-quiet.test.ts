import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startService, subscribe, wsClient } from '../helpers/service.ts';
import { TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// A feed with nobody listening may rest (on PostgreSQL it then only keeps its place in the log):
// a subscriber who arrives after a quiet spell, or after mail flowed with nobody watching, still
// gets every event from its subscription on, none missing, none repeated.

const SEND = `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`;
const EVENTS = `subscription { messageEvents { cursor status message { id } } }`;

test(`live events after mail flowed with nobody listening (${TEST_DIALECT})`, async (t) => {
  const svc = await startService(t);
  const send = async (to: string) => {
    const result = await svc.gql(SEND, { to });
    assert.equal(result.errors, undefined);
    return result.data.sendEmail.id as string;
  };
  const sentAll = (ids: readonly string[]) =>
    waitFor(
      async () => {
        const page = await svc.gql(
          `{ messages(filter: { status: [SENT] }, first: 500) { totalCount } }`,
        );
        return page.data.messages.totalCount >= ids.length;
      },
      { description: 'the messages sent' },
    );
  // Mail flows with nobody listening.
  const before: string[] = [];
  for (let i = 0; i < 30; i++) before.push(await send(`before${i}@example.com`));
  await sentAll(before);

  for (const round of [1, 2]) {
    const client = wsClient(t, svc.url);
    const live = subscribe(client, EVENTS);
    // Live once a probe's event arrives; only what follows counts.
    const probes = new Set<string>();
    await waitFor(async () => {
      probes.add(await send(`probe${round}@example.com`));
      return live.received.some((e: any) => probes.has(e.messageEvents.message.id));
    });
    const after: string[] = [];
    for (let i = 0; i < 20; i++) after.push(await send(`after${round}-${i}@example.com`));
    const mine = () => live.received.filter((e: any) => after.includes(e.messageEvents.message.id));
    await waitFor(() => mine().length === after.length * 3, {
      description: `the QUEUED, PROCESSING and SENT events of ${after.length} messages`,
    });
    for (const id of after) {
      assert.deepEqual(
        mine()
          .filter((e: any) => e.messageEvents.message.id === id)
          .map((e: any) => e.messageEvents.status),
        ['QUEUED', 'PROCESSING', 'SENT'],
        `message ${id}`,
      );
    }
    const cursors = live.received.map((e: any) => e.messageEvents.cursor);
    assert.equal(new Set(cursors).size, cursors.length, 'no event twice');
    assert.ok(
      !live.received.some((e: any) => before.includes(e.messageEvents.message.id)),
      'nothing from before the subscription',
    );
    live.unsubscribe();
    await client.dispose();
    // Between rounds nobody listens again while mail flows.
    const between: string[] = [];
    for (let i = 0; i < 20; i++) between.push(await send(`between${round}-${i}@example.com`));
    before.push(...between);
    await sentAll([...before, ...after, ...probes]);
  }
});
