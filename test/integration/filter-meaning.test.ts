import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { subjectMatches } from '../../src/db/message-filter.ts';
import { closeWith } from '../helpers/scope.ts';
import { startService, subscribe, wsClient } from '../helpers/service.ts';
import { TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { RECIPIENT_CASES as RECIPIENTS, SUBJECT_CASES as CASES } from '../helpers/filter-cases.ts';

// "Subject contains, case-insensitively" and "recipient is, case-insensitively" mean one thing
// (src/db/message-filter.ts), on every path: the `messages` query (SQL, on either dialect, and
// on SQLite through the trigram index or around it) and the live `messageEvents` filter. One
// table of cases, each with the answer written out, checked against all of them.

test('the reference itself gives the written answers', () => {
  for (const [subject, term, matches] of CASES) {
    assert.equal(subjectMatches(subject, term), matches, `${subject} / ${term}`);
  }
});

test(`subject and recipient filters mean the same on every path (${TEST_DIALECT})`, async (t) => {
  const svc = await startService(t);
  const client = wsClient(t, svc.url);
  const query = `subscription ($filter: MessageFilter) {
    messageEvents(filter: $filter) { status message { id subject recipient } } }`;
  // One live subscriber per distinct term, filtering on QUEUED events as they are published.
  const terms = [...new Set(CASES.map(([, term]) => term))];
  const live = new Map(
    terms.map((term) => [
      term,
      subscribe(client, query, { filter: { subjectContains: term, status: [`QUEUED`] } }),
    ]),
  );
  const byRecipient = RECIPIENTS.map(([, asked]) =>
    subscribe(client, query, { filter: { recipient: asked, status: ['QUEUED'] } }),
  );
  const send = async (subject: string, to = 'reader@example.com') => {
    const sent = await svc.gql(
      `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`,
      { input: { to, subject, text: 'x' } },
    );
    assert.equal(sent.errors, undefined);
    return sent.data.sendEmail.id as string;
  };
  // A subscription is live once it has seen an event: probes whose subject contains every term,
  // sent to every recipient asked about, until each subscription has seen one.
  const probes = new Set<string>();
  const everyTerm = terms.join(' | ');
  const subscriptions = [...live.values(), ...byRecipient];
  await waitFor(
    async () => {
      for (const [, asked] of RECIPIENTS) probes.add(await send(everyTerm, asked));
      return subscriptions.every((subscription) => subscription.received.length > 0);
    },
    { intervalMs: 200, description: 'every subscription live' },
  );
  const subjects = [...new Set(CASES.map(([subject]) => subject))];
  const ids = new Map<string, string>();
  for (const subject of subjects) ids.set(subject, await send(subject));
  const recipientIds: string[] = [];
  for (const [stored] of RECIPIENTS) recipientIds.push(await send('to someone', stored));

  const all = [...ids.values(), ...recipientIds, ...probes];
  await waitFor(
    async () => {
      const page = await svc.gql(`{ messages(first: 100) { totalCount } }`);
      return page.data.messages.totalCount === all.length;
    },
    { description: 'every message stored' },
  );

  const listed = async (filter: Record<string, unknown>) => {
    const page = await svc.gql(
      `query ($filter: MessageFilter) { messages(filter: $filter, first: 500) { edges { node { id } } } }`,
      { filter },
    );
    assert.equal(page.errors, undefined, JSON.stringify(page.errors));
    return new Set<string>(page.data.messages.edges.map((edge: any) => edge.node.id));
  };
  const check = async (when: string) => {
    for (const [subject, term, matches] of CASES) {
      const found = await listed({ subjectContains: term });
      assert.equal(
        found.has(ids.get(subject)!),
        matches,
        `messages, ${when}: ${subject} / ${term}`,
      );
    }
    for (const [index, [stored, asked, matches]] of RECIPIENTS.entries()) {
      const found = await listed({ recipient: asked });
      assert.equal(found.has(recipientIds[index]!), matches, `recipient ${stored} / ${asked}`);
    }
  };
  await check('as stored');
  if (TEST_DIALECT === 'sqlite') {
    // The same again once the background job has put them in the trigram index.
    const database = new Database(svc.databasePath, { readonly: true, fileMustExist: true });
    closeWith(t, () => database.close());
    const newest = all.map(Number).reduce((a, b) => Math.max(a, b));
    await waitFor(
      () =>
        (
          database.prepare('SELECT indexed_through_id AS id FROM subject_search_state').get() as {
            id: number;
          }
        ).id >= newest,
      { description: 'the subject index to catch up' },
    );
    await check('through the trigram index');
  }

  // The live filter saw what the reference says, and in particular each answer of the table.
  const live_ = (seen: readonly any[]) =>
    new Set(
      seen.map((data) => data.messageEvents.message.id as string).filter((id) => !probes.has(id)),
    );
  for (const term of terms) {
    const want = new Set(
      subjects.filter((subject) => subjectMatches(subject, term)).map((s) => ids.get(s)!),
    );
    await waitFor(() => live_(live.get(term)!.received).size >= want.size, {
      description: `the live events for "${term}"`,
    });
    const seen = live_(live.get(term)!.received);
    assert.deepEqual([...seen].sort(), [...want].sort(), `live feed: ${term}`);
    for (const [subject, t, matches] of CASES) {
      if (t === term) assert.equal(seen.has(ids.get(subject)!), matches, `live: ${subject} / ${t}`);
    }
  }
  const wantFor = (asked: string) =>
    RECIPIENTS.flatMap(([stored], i) =>
      stored.toLowerCase() === asked.toLowerCase() ? [recipientIds[i]!] : [],
    );
  for (const [index, [, asked]] of RECIPIENTS.entries()) {
    const want = wantFor(asked);
    await waitFor(() => live_(byRecipient[index]!.received).size >= want.length, {
      description: `live events for ${asked}`,
    });
  }
  for (const [index, [, asked, matches]] of RECIPIENTS.entries()) {
    const seen = [...live_(byRecipient[index]!.received)];
    assert.deepEqual(seen.sort(), wantFor(asked).sort(), `live recipient ${asked}`);
    assert.equal(seen.includes(recipientIds[index]!), matches, `live recipient ${asked}`);
  }
});
