import { existsSync } from 'node:fs';
import { loadConfigFromEnv } from '../load-config.ts';
import { backupDatabase, backupDestinationClash } from '../db/sqlite/backup.ts';
import { stringOption, UsageError, type Command } from './command.ts';

export const backup: Command = {
  name: 'backup',
  summary: 'copy the live database to a file (SQLite online backup; safe while the service runs)',
  usage: 'backup <file> [--database <file>] (default $DATABASE_PATH) [--force] [--json]',
  options: { database: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(args, io) {
    const destination = args.positionals[0];
    if (destination === undefined || args.positionals.length > 1) {
      throw new UsageError('backup takes one argument: the file to write');
    }
    const loaded = loadConfigFromEnv(io.env);
    if (
      loaded.ok &&
      loaded.config.storage.databaseUrl !== null &&
      stringOption(args, 'database') === undefined
    ) {
      throw new UsageError(
        "backup copies a SQLite database; with DATABASE_URL the data is in PostgreSQL: back it up with pg_dump (or your provider's backups)",
      );
    }
    const source =
      stringOption(args, 'database') ??
      (loaded.ok ? loaded.config.storage.databasePath : undefined);
    if (source === undefined) throw new UsageError('set --database or DATABASE_PATH');
    if (!existsSync(source)) throw new UsageError(`no database at ${source}`);
    const clash = backupDestinationClash(source, destination);
    if (clash !== null) throw new UsageError(clash);
    if (existsSync(destination) && !args.values['force']) {
      throw new UsageError(`${destination} exists; pass --force to replace it`);
    }
    const result = await backupDatabase(source, destination);
    io.stdout.write(
      args.values['json']
        ? `${JSON.stringify({ file: destination, ...result })}\n`
        : `backed up ${source} to ${destination}: ${result.messages} messages, ${result.events} events, ${result.bytes} bytes in ${result.durationMs} ms (integrity_check ok)\n`,
    );
    return 0;
  },
};
