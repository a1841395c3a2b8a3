import { loadConfigFromEnv } from '../app.ts';
import { openDatabase } from '../db/client.ts';
import { stringOption, type Command } from './command.ts';

export const migrate: Command = {
  name: 'migrate',
  summary: 'create the database and apply pending migrations, then exit',
  usage: 'migrate [--database <file>] (default $DATABASE_PATH or ./data/mailscope.db)',
  options: { database: { type: 'string' } },
  async run(args, io) {
    const loaded = loadConfigFromEnv(io.env);
    if (!loaded.ok) {
      io.stderr.write(
        `invalid configuration:\n${loaded.problems.map((p) => `  - ${p}`).join('\n')}\n`,
      );
      return 1;
    }
    const path = stringOption(args, 'database') ?? loaded.config.databasePath;
    const database = openDatabase(path);
    database.close();
    io.stdout.write(`migrated ${path}\n`);
    return 0;
  },
};
