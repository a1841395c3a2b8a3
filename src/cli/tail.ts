import { colorsFor, type Palette } from './colors.ts';
import { stringOption, type Command } from './command.ts';
import {
  SERVICE_USAGE,
  serviceOptions,
  serviceTarget,
  ServiceError,
  subscriptionClient,
} from './graphql-client.ts';

const EVENTS = `subscription ($filter: MessageFilter, $after: String) {
  messageEvents(filter: $filter, after: $after) {
    cursor at status reason attempt
    message { id recipient subject }
    error { code message responseCode enhancedStatus hint }
  }
}`;

export interface TailEvent {
  cursor: string;
  at: string;
  status: string;
  reason: string;
  attempt: number | null;
  message: { id: string; recipient: string; subject: string };
  error: {
    code: string;
    message: string;
    responseCode: number | null;
    enhancedStatus: string | null;
    hint: string | null;
  } | null;
}

const STATUS_COLORS: Record<string, keyof Palette> = {
  QUEUED: 'yellow',
  PROCESSING: 'cyan',
  SENT: 'green',
  ABANDONED: 'red',
  CANCELLED: 'gray',
};

/** One line per event: time, status, message id, recipient, attempt, reason; the error and its hint. */
export function formatEvent(event: TailEvent, colors: Palette): string {
  const status = colors[STATUS_COLORS[event.status] ?? 'bold'](event.status.padEnd(10));
  const attempt = event.attempt === null ? '' : `  attempt ${event.attempt}`;
  const line = `${colors.dim(event.at)}  ${status} #${event.message.id}  ${event.message.recipient}${attempt}  ${colors.dim(event.reason)}`;
  if (event.error === null) return line;
  const reply = [event.error.responseCode, event.error.enhancedStatus].filter((x) => x !== null);
  const detail = `${colors.red(event.error.code)}${reply.length > 0 ? ` ${reply.join(' ')}` : ''}: ${event.error.message}`;
  const hint = event.error.hint ? `\n    ${colors.dim(`hint: ${event.error.hint}`)}` : '';
  return `${line}\n    ${detail}${hint}`;
}

export const tail: Command = {
  name: 'tail',
  summary: 'follow delivery events live (messageEvents), filtered by status or recipient',
  usage: `tail [--status <STATUS>]… [--recipient <address>] [--after <cursor>] [--json] ${SERVICE_USAGE}`,
  options: {
    ...serviceOptions,
    status: { type: 'string', multiple: true },
    recipient: { type: 'string' },
    after: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const statuses = (args.values['status'] as string[] | undefined)?.map((s) => s.toUpperCase());
    const recipient = stringOption(args, 'recipient');
    const filter = {
      ...(statuses && statuses.length > 0 ? { status: statuses } : {}),
      ...(recipient !== undefined ? { recipient } : {}),
    };
    const colors = colorsFor(io.stdout, io.env);
    const json = args.values['json'] === true;
    const client = subscriptionClient(serviceTarget(args, io));
    const outcome = new Promise<number>((resolve) => {
      client.subscribe<{ messageEvents: TailEvent }>(
        {
          query: EVENTS,
          variables: {
            filter: Object.keys(filter).length > 0 ? filter : null,
            after: stringOption(args, 'after') ?? null,
          },
        },
        {
          next: (value) => {
            if (value.errors) {
              io.stderr.write(`${new ServiceError(value.errors).message}\n`);
              resolve(1);
              return;
            }
            const event = value.data?.messageEvents;
            if (!event) return;
            io.stdout.write(`${json ? JSON.stringify(event) : formatEvent(event, colors)}\n`);
          },
          error: (error) => {
            const errors = Array.isArray(error) ? error : null;
            const message =
              errors !== null
                ? new ServiceError(errors).message
                : error instanceof Error
                  ? error.message
                  : `connection closed${typeof error === 'object' && error && 'code' in error ? ` (${String(error.code)}${'reason' in error && error.reason ? `: ${String(error.reason)}` : ''})` : ''}`;
            io.stderr.write(`tail: ${message}\n`);
            resolve(1);
          },
          complete: () => resolve(0),
        },
      );
    });
    const code = await Promise.race([outcome, io.untilStopped().then(() => 0)]);
    await client.dispose();
    return code;
  },
};
