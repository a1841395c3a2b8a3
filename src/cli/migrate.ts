import { loadConfigFromEnv } from '../load-config.ts';
import { openStorage, storageDescriptorFor, withDatabaseTarget } from '../db/open-storage.ts';
import { stringOption, type Command } from './command.ts';

export const migrate: Command = {
  name: 'migrate',
  summary: 'create the database and apply pending migrations, then exit',
  usage:
    'migrate [--database <file|postgres-url>] (default $DATABASE_URL, else $DATABASE_PATH or ./data/mailscope.db)',
  options: { database: { type: 'string' } },
  async run(args, io) {
    const loaded = loadConfigFromEnv(io.env);
    if (!loaded.ok) {
      io.stderr.write(
        `invalid configuration:\n${loaded.problems.map((p) => `  - ${p}`).join('\n')}\n`,
      );
      return 1;
    }
    const target = stringOption(args, 'database');
    const storage_ = loaded.config.storage;
    const descriptor = storageDescriptorFor(
      target === undefined ? storage_ : withDatabaseTarget(storage_, target),
    );
    const storage = await openStorage(descriptor, { role: 'main', secrets: null });
    await storage.close();
    io.stdout.write(
      `migrated ${descriptor.dialect === 'sqlite' ? descriptor.path : `the PostgreSQL database at ${target === undefined ? 'DATABASE_URL' : '--database'}`}\n`,
    );
    return 0;
  },
};
