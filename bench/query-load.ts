// Figures for issue 19, item 1: `npm run bench:query [-- <messages>]`.
// The review's scenario: N messages (default 300) of 20 KB html, sent through the embedded
// server so each has its events and a dispatch. Then, against the service as `npm start` runs
// it: the review's query and its loop-free variant (refused up front: what they cost, how fast
// the refusal comes), a heavy query that is allowed (how long it runs, and /healthz latency
// sampled back to back meanwhile), a response over the size cap, and the service's RSS.
// Before the fix the review measured 15-22 s, /healthz 11.5 s and RSS 2.74 GB (2 GB after).
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { cleanupAll } from './lib/cleanup.ts';
import { getStatus, graphql, graphqlData, postJson } from './lib/graphql-client.ts';
import { startServiceProcess } from './lib/service-process.ts';

const total = Number(process.argv[2] ?? 300);
const HTML = `<p>${'x'.repeat(20_000)}</p>`;
const ROUNDS = 5;

const loop = (levels: number) =>
  `${'events { message { '.repeat(levels)}id html${' } }'.repeat(levels)}`;
const aliased = (count: number, selection: string) =>
  `{ ${Array.from({ length: count }, (_, i) => `a${i}: messages(first: 500) { edges { node { ${selection} } } }`).join(' ')} }`;
const QUERIES = {
  review: aliased(15, `id html ${loop(3)}`),
  'review without the loop': aliased(15, 'id html'),
  heavy: `{ messages(first: 500) { totalCount edges { node { id subject html
    events { status at reason } dispatches { attempt succeeded response } } } } }`,
  'over 16 MiB': aliased(5, 'id html'),
};

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function main() {
  console.log(
    `load average ${os
      .loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')} on ${os.cpus().length} CPUs`,
  );
  const service = await startServiceProcess({ env: { EMBEDDED_SMTP_PORT: '0' } });
  try {
    for (let sent = 0; sent < total; sent += 100) {
      await graphqlData(
        service.url,
        `mutation ($inputs: [SendEmailInput!]!) { sendEmails(inputs: $inputs) { id } }`,
        {
          inputs: Array.from({ length: Math.min(100, total - sent) }, (_, i) => ({
            to: `r${sent + i}@example.com`,
            subject: 'bench',
            html: HTML,
          })),
        },
      );
    }
    for (;;) {
      const data = await graphqlData(
        service.url,
        `{ messages(filter: { status: [SENT] }) { totalCount } }`,
      );
      if (data['messages'].totalCount === total) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log(`seeded ${total} messages of 20 KB html; RSS ${service.rssMiB().toFixed(0)} MiB`);

    for (const name of ['review', 'review without the loop'] as const) {
      const started = performance.now();
      const body = await graphql(service.url, QUERIES[name]);
      const error = body.errors?.[0] as { message: string; extensions?: Record<string, unknown> };
      console.log(
        `${name}: refused in ${ms(performance.now() - started)} (${String(error?.extensions?.['limit'])}` +
          `${error?.extensions?.['cost'] ? `, cost ${String(error.extensions['cost'])} vs limit ${String(error.extensions['maxCost'])}` : ''})`,
      );
    }

    // The same probe with nothing running, for comparison: on a loaded machine the wait for a
    // CPU alone can be tens of milliseconds.
    const idle: number[] = [];
    for (const until = performance.now() + 2_000; performance.now() < until;) {
      const started = performance.now();
      await getStatus(`${service.url}/healthz`);
      idle.push(performance.now() - started);
    }
    idle.sort((a, b) => a - b);
    console.log(
      `/healthz idle: ${idle.length} answers, p50 ${ms(percentile(idle, 50))}, ` +
        `p99 ${ms(percentile(idle, 99))}, max ${ms(idle.at(-1)!)}`,
    );

    const durations: number[] = [];
    const health: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      let done = false;
      const sampling = (async () => {
        while (!done) {
          const started = performance.now();
          await getStatus(`${service.url}/healthz`);
          if (!done) health.push(performance.now() - started);
        }
      })();
      const started = performance.now();
      const { status, text } = await postJson(
        `${service.url}/graphql`,
        JSON.stringify({ query: QUERIES.heavy }),
      );
      durations.push(performance.now() - started);
      done = true;
      await sampling;
      if (status !== 200 || text.includes('"errors"')) throw new Error(text.slice(0, 300));
      if (round === 0) console.log(`heavy query: ${(text.length / 1_048_576).toFixed(1)} MiB`);
    }
    durations.sort((a, b) => a - b);
    health.sort((a, b) => a - b);
    console.log(
      `heavy query (allowed): ${ROUNDS} runs, median ${ms(percentile(durations, 50))}, max ${ms(durations.at(-1)!)}`,
    );
    console.log(
      `/healthz during the heavy query: ${health.length} answers, p50 ${ms(percentile(health, 50))}, ` +
        `p99 ${ms(percentile(health, 99))}, max ${ms(health.at(-1) ?? Number.NaN)}`,
    );

    const started = performance.now();
    const oversized = await graphql(service.url, QUERIES['over 16 MiB']);
    console.log(
      `over 16 MiB: ${oversized.errors?.[0]?.extensions?.code} in ${ms(performance.now() - started)}`,
    );
    console.log(
      `RSS now ${service.rssMiB().toFixed(0)} MiB, peak ${service.peakRssMiB().toFixed(0)} MiB`,
    );
  } finally {
    await service.stop();
  }
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
