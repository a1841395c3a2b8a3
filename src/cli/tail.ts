import { colorsFor, type Palette } from './colors.ts';
import { MESSAGE_STATUSES } from '../domain/message.ts';
import { stringOption, UsageError, type Command } from './command.ts';
import {
  SERVICE_USAGE,
  serviceOptions,
  serviceTarget,
  ServiceError,
  subscriptionClient,
  type ServiceTarget,
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
    // A usage mistake like any other (exit 2), said before the service is asked.
    const unknown = statuses?.find((s) => !(MESSAGE_STATUSES as readonly string[]).includes(s));
    if (unknown !== undefined) {
      throw new UsageError(
        `--status must be one of ${MESSAGE_STATUSES.join(', ')}, not "${unknown}"`,
      );
    }
    const recipient = stringOption(args, 'recipient');
    const filter = {
      ...(statuses && statuses.length > 0 ? { status: statuses } : {}),
      ...(recipient !== undefined ? { recipient } : {}),
    };
    const colors = colorsFor(io.stdout, io.env);
    const json = args.values['json'] === true;
    const target = serviceTarget(args, io);
    const stopped = io.untilStopped().then((): Ended => ({ kind: 'exit', code: 0 }));
    // Where to resume after a lost connection: the last event shown, so none is missed or
    // shown twice across a restart of the service.
    let cursor = stringOption(args, 'after') ?? null;
    let everConnected = false;
    for (;;) {
      const follow = followOnce(
        target,
        { filter: Object.keys(filter).length > 0 ? filter : null, after: cursor },
        (event) => {
          cursor = event.cursor;
          io.stdout.write(`${json ? JSON.stringify(event) : formatEvent(event, colors)}\n`);
        },
        () => (everConnected = true),
      );
      const ended = await Promise.race([follow.ended, stopped]);
      await follow.dispose();
      if (ended.kind === 'exit') {
        if (ended.message !== undefined) io.stderr.write(`mailscope tail: ${ended.message}\n`);
        return ended.code;
      }
      if (!everConnected) {
        io.stderr.write(
          `mailscope tail: cannot reach mailscope at ${target.url}: ${ended.reason}\n`,
        );
        return 1;
      }
      io.stderr.write(`mailscope tail: ${ended.reason}; reconnecting\n`);
      const retry = new Promise<null>((resolve) => setTimeout(() => resolve(null), RECONNECT_MS));
      if ((await Promise.race([retry, stopped])) !== null) return 0;
    }
  },
};

const RECONNECT_MS = 1_000;

type Ended = { kind: 'exit'; code: number; message?: string } | { kind: 'lost'; reason: string };

/** One subscription: ends with an exit code (completed, or a GraphQL error) or a lost connection. */
function followOnce(
  target: ServiceTarget,
  variables: Record<string, unknown>,
  onEvent: (event: TailEvent) => void,
  onConnected: () => void,
): { ended: Promise<Ended>; dispose: () => Promise<void> } {
  const client = subscriptionClient(target, onConnected);
  const ended = new Promise<Ended>((resolve) => {
    const fail = (message: string): void => resolve({ kind: 'exit', code: 1, message });
    client.subscribe<{ messageEvents: TailEvent }>(
      { query: EVENTS, variables },
      {
        next: (value) => {
          if (value.errors) return fail(new ServiceError(value.errors).message);
          if (value.data?.messageEvents) onEvent(value.data.messageEvents);
        },
        error: (error) => {
          if (Array.isArray(error)) return fail(new ServiceError(error).message);
          const close = error as { code?: unknown; reason?: unknown };
          // 44xx: the server refused us (e.g. 4403, a wrong token): retrying will not help.
          if (typeof close.code === 'number' && close.code >= 4400 && close.code < 4500) {
            return fail(
              `connection refused (${close.code}${close.reason ? `: ${String(close.reason)}` : ''})`,
            );
          }
          const reason =
            error instanceof Error
              ? error.message
              : typeof close.code === 'number'
                ? `connection closed (${close.code})`
                : 'connection failed';
          resolve({ kind: 'lost', reason });
        },
        complete: () => resolve({ kind: 'exit', code: 0 }),
      },
    );
  });
  return { ended, dispose: async () => client.dispose() };
}
