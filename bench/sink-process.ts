// The benchmark's SMTP sink in a process of its own, so that neither side's client shares an
// event loop with the server it sends to. Reports its message count to the parent over IPC.
// Started with the argument `track`, it also remembers each message's Message-ID and when it
// first arrived (in clock.ts's clock), to count copies of one message and time its arrival.
import { randomBytes } from 'node:crypto';
import { closedByCaller } from '../test/helpers/scope.ts';
import { startTestSmtpServer, type ReceivedMail } from '../test/helpers/smtp-server.ts';
import { answerClockPings, clockNow } from './lib/clock.ts';

const track = process.argv[2] === 'track';
/** Message-ID -> [first arrival, copies received]. */
const seen = new Map<string, [number, number]>();
let withoutId = 0;

/** The Message-ID header of `raw`, or null; only the header block is searched. */
function messageIdOf(raw: string): string | null {
  const headerEnd = raw.indexOf('\r\n\r\n');
  const header = headerEnd < 0 ? raw : raw.slice(0, headerEnd);
  return /^message-id:[ \t]*(\S+)/im.exec(header)?.[1] ?? null;
}

function remember(mail: ReceivedMail): string {
  const id = messageIdOf(mail.raw);
  if (id === null) withoutId++;
  else {
    const entry = seen.get(id);
    if (entry) entry[1]++;
    else seen.set(id, [clockNow(), 1]);
  }
  // The reply the sink gives when not tracking.
  return `2.0.0 Ok: queued as ${randomBytes(6).toString('hex').toUpperCase()}`;
}

const sink = await startTestSmtpServer(closedByCaller, {
  keepMessages: false,
  recordCommands: false,
  ...(track ? { acceptMessage: remember } : {}),
});
const send = (message: unknown) => process.send!(message);
send({ type: 'ready', host: sink.host, port: sink.port });
answerClockPings();

let reported = -1;
const reporter = setInterval(() => {
  if (sink.receivedCount === reported) return;
  reported = sink.receivedCount;
  send({ type: 'count', count: reported, distinct: seen.size + withoutId });
}, 1);

// The bench is gone (killed): nothing will ask for a report or close this process.
process.on('disconnect', () => process.exit(0));
process.on('message', (message: { type: string; times?: boolean }) => {
  if (message.type === 'report') {
    const duplicated = [...seen].filter(([, [, copies]]) => copies > 1);
    send({
      type: 'report',
      received: sink.receivedCount,
      distinct: seen.size + withoutId,
      withoutId,
      duplicated: duplicated.map(([id, [, copies]]) => [id, copies]),
      times: message.times ? [...seen].map(([id, [at]]) => [id, at]) : [],
    });
  } else if (message.type === 'close') {
    clearInterval(reporter);
    void sink.close().then(() => process.exit(0));
  }
});
