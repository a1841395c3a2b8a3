import { requiredOption, stringOption, type Command } from './command.ts';
import { request, SERVICE_USAGE, serviceOptions, serviceTarget } from './graphql-client.ts';

const SEND = `mutation ($input: SendEmailInput!) {
  sendEmail(input: $input) { id status recipient messageId }
}`;

export const send: Command = {
  name: 'send',
  summary: 'queue one message through sendEmail and print its id',
  usage: `send --to <address> [--subject <text>] [--text <body>] [--html <body>] [--json] ${SERVICE_USAGE}`,
  options: {
    ...serviceOptions,
    to: { type: 'string' },
    subject: { type: 'string' },
    text: { type: 'string' },
    html: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const html = stringOption(args, 'html');
    const input = {
      to: requiredOption(args, 'to'),
      subject: stringOption(args, 'subject') ?? 'mailscope test message',
      text:
        stringOption(args, 'text') ??
        (html === undefined ? 'Sent with `mailscope send`: delivery works.' : undefined),
      ...(html !== undefined ? { html } : {}),
    };
    const data = await request<{
      sendEmail: { id: string; status: string; recipient: string; messageId: string };
    }>(serviceTarget(args, io), SEND, { input });
    const message = data.sendEmail;
    io.stdout.write(
      args.values['json']
        ? `${JSON.stringify(message)}\n`
        : `queued message ${message.id} to ${message.recipient} (${message.status}, Message-ID ${message.messageId})\n`,
    );
    return 0;
  },
};
