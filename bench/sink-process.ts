// The benchmark's SMTP sink in a process of its own, so that neither side's client shares an
// event loop with the server it sends to. Reports its message count to the parent over IPC.
import { closedByCaller } from '../test/helpers/scope.ts';
import { startTestSmtpServer } from '../test/helpers/smtp-server.ts';

const sink = await startTestSmtpServer(closedByCaller, {
  keepMessages: false,
  recordCommands: false,
});
const send = (message: unknown) => process.send!(message);
send({ type: 'ready', host: sink.host, port: sink.port });

let reported = -1;
const reporter = setInterval(() => {
  if (sink.receivedCount === reported) return;
  reported = sink.receivedCount;
  send({ type: 'count', count: reported });
}, 1);

process.on('message', (message: { type: string }) => {
  if (message.type !== 'close') return;
  clearInterval(reporter);
  void sink.close().then(() => process.exit(0));
});
