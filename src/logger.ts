import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger } from 'pino';

/**
 * Fields that may hold a secret, at the top level and one level down (`smtp.password`,
 * `headers.authorization`). pino replaces their values before a line is written, so a careless
 * `log.info({ config }, …)` cannot leak one. URIs are logged only after redactUriPassword, under
 * another name (`uri`); a raw `connectionUri` never reaches the output.
 */
export const REDACTED_PATHS = ['password', 'authorization', 'token', 'apiToken', 'connectionUri'];
const redactPaths = REDACTED_PATHS.flatMap((path) => [path, `*.${path}`]);

export interface LoggerOptions {
  level: LogLevel;
  /** Which part of the service writes the line: `main` or `delivery`. */
  name: string;
  /** Where lines go. @default stdout */
  destination?: DestinationStream;
}

/**
 * JSON lines on stdout, one object per line (`level`, `time`, `name`, `msg` and the fields of
 * the call). Each thread creates its own from the same LOG_LEVEL.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: redactPaths, censor: '***' },
      // ISO times, as everywhere else in the API.
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
