import { Writable } from 'node:stream';
import type { LogLevel } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/logger.ts';

/**
 * A logger whose JSON lines a test reads: `lines` as written, `records` parsed. The service's
 * own logger (masking, levels), writing into memory instead of stdout.
 */
export function capturedLog(level: LogLevel, name = 'test') {
  const lines: string[] = [];
  const records: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        lines.push(line);
        records.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const log: Logger = createLogger({ level, name, destination });
  return { log, lines, records };
}
