import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';
import { gatherLinesPerTurn } from './turn-gathered-lines.ts';

export type { Logger } from 'pino';
export { flushGatheredLines as flushLogLines } from './turn-gathered-lines.ts';

/**
 * Fields that may hold a secret, wherever they are in a line's object (`smtp.password`,
 * `a.b.c.token`, `[{ password }]`): their values are replaced before the line is written, so a
 * careless `log.info({ config }, …)` cannot leak one. URIs are logged only after
 * redactUriPassword, under another name (`uri`); a raw `connectionUri` never reaches the output.
 */
export const REDACTED_FIELDS = ['password', 'authorization', 'token', 'apiToken', 'connectionUri'];
const redacted = new Set(REDACTED_FIELDS.map((field) => field.toLowerCase()));
const CENSOR = '***';
/** Deeper than any object the service logs; what is below is cut, not walked. */
const MAX_DEPTH = 12;

/** A copy of `value` with every secret field's value replaced, at any depth (cycles cut). */
export function redactSecrets(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > MAX_DEPTH) return '[…]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1, seen));
  // Class instances (an Error: see `err` below; a Buffer, a Date) are left as they are.
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    copy[key] = redacted.has(key.toLowerCase()) ? CENSOR : redactSecrets(field, depth + 1, seen);
  }
  return copy;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Which part of the service writes the line: `main` or `delivery`. */
  name: string;
  /** Where lines go. @default stdout */
  destination?: DestinationStream;
}

/**
 * JSON lines on stdout, one object per line (`level`, `time`, `name`, `msg` and the fields of
 * the call), the lines of one turn in one write (turn-gathered-lines.ts). Each thread creates its
 * own from the same LOG_LEVEL.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      // ISO times, as everywhere else in the API.
      timestamp: pino.stdTimeFunctions.isoTime,
      // pino's own err serializer (type, message, stack, the error's fields) runs after the
      // formatter below, so an error's fields are redacted here.
      serializers: {
        err: (error: unknown) =>
          error instanceof Error ? redactSecrets({ ...pino.stdSerializers.err(error) }) : error,
      },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactSecrets(object) as Record<string, unknown>,
      },
    },
    options.destination ?? stdout(),
  );
}

let stdoutLines: DestinationStream | null = null;
/** This thread's stdout, shared by its loggers: lines gathered per turn, written synchronously. */
function stdout(): DestinationStream {
  stdoutLines ??= gatherLinesPerTurn(pino.destination({ dest: 1, sync: true }));
  return stdoutLines;
}
