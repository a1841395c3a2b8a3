import { existsSync } from 'node:fs';
import { createApiTokens } from '../auth/api-tokens.ts';
import { isPostgresUrl, openStorage, type StorageDescriptor } from '../db/open-storage.ts';
import { createLogger } from '../logger.ts';
import { requiredOption, stringOption, UsageError, type CliIo, type Command } from './command.ts';
import { request, SERVICE_USAGE, serviceOptions, serviceTarget } from './graphql-client.ts';

const CREATE = `mutation ($name: String!, $scope: ApiTokenScope!) {
  createApiToken(name: $name, scope: $scope) { token apiToken { id name scope createdAt } }
}`;

const SCOPES = ['admin', 'read', 'send'] as const;
type CliScope = (typeof SCOPES)[number];

interface Created {
  token: string;
  apiToken: { id: string; name: string; scope: string; createdAt: string };
}

/**
 * Straight into the database, without the service: the way back in for an operator who revoked
 * every token (authentication stays on once a token existed) and has no API_TOKEN. Write access
 * to the database is the credential; the token records that the CLI made it. `target` is the
 * SQLite file or a postgres:// URL; running instances hear of the token as of any other.
 */
async function createInDatabase(
  target: string,
  name: string,
  scope: CliScope,
  io: CliIo,
): Promise<Created> {
  const descriptor: StorageDescriptor = isPostgresUrl(target)
    ? { dialect: 'postgres', url: target, connectTimeoutMs: 5_000 }
    : { dialect: 'sqlite', path: target };
  // A typo must not leave a fresh, empty database behind.
  if (descriptor.dialect === 'sqlite' && !existsSync(target)) {
    throw new UsageError(`no database at ${target}`);
  }
  const storage = await openStorage(descriptor, { role: 'main', secrets: null });
  try {
    const tokens = createApiTokens({
      repository: storage.apiTokens,
      signals: storage.signals,
      bootstrapToken: null,
      // The audit line the service would write for a creation, on stderr: no service sees this
      // one, and stdout is the token's.
      log: createLogger({
        level: 'info',
        name: 'cli',
        destination: { write: (line: string) => void io.stderr.write(line) },
      }),
    });
    const first = !(await storage.apiTokens.anyStored());
    const result = await tokens.create(name, scope, { via: 'cli' });
    if (result.ok && first && scope !== 'admin') {
      // Allowed (this is the way back in, and the operator may mean it), but said: from now on
      // the API needs a token, and this one cannot create or revoke others.
      io.stderr.write(
        `mailscope create-token: warning: this is the first token and it is ${scope.toUpperCase()}, not ADMIN: anonymous access has ended and no token can manage the others; make an ADMIN one with --scope admin --database ${target}\n`,
      );
    }
    tokens.close();
    if (!result.ok) {
      throw new UsageError('problem' in result ? `--${result.field} ${result.problem}` : 'refused');
    }
    const { apiToken } = result;
    return {
      token: result.token,
      apiToken: {
        id: String(apiToken.id),
        name: apiToken.name,
        scope: apiToken.scope.toUpperCase(),
        createdAt: new Date(apiToken.createdAtMs).toISOString(),
      },
    };
  } finally {
    await storage.close();
  }
}

export const createToken: Command = {
  name: 'create-token',
  summary: 'create an API token (admin, read or send) and print it; it is shown only this once',
  usage:
    `create-token --name <label> [--scope admin|read|send] [--json] ${SERVICE_USAGE}\n` +
    '       create-token --name <label> [--scope admin|read|send] [--json] --database <file|postgres-url>\n' +
    '         (writes the token straight into the database, without the service or a token:\n' +
    '          the way back in after every token was revoked)',
  options: {
    ...serviceOptions,
    name: { type: 'string' },
    scope: { type: 'string' },
    json: { type: 'boolean' },
    database: { type: 'string' },
  },
  async run(args, io: CliIo) {
    const name = requiredOption(args, 'name');
    const scope = (stringOption(args, 'scope') ?? 'read').toLowerCase();
    if (!(SCOPES as readonly string[]).includes(scope)) {
      throw new UsageError(`--scope must be admin, read or send, not "${scope}"`);
    }
    const database = stringOption(args, 'database');
    const created =
      database === undefined
        ? (
            await request<{ createApiToken: Created }>(serviceTarget(args, io), CREATE, {
              name,
              scope: scope.toUpperCase(),
            })
          ).createApiToken
        : await createInDatabase(database, name, scope as CliScope, io);
    if (args.values['json']) {
      io.stdout.write(`${JSON.stringify(created)}\n`);
    } else {
      io.stdout.write(`${created.token}\n`);
      io.stderr.write(
        `created ${created.apiToken.scope} token ${created.apiToken.id} "${created.apiToken.name}": ` +
          'keep it now, it is never shown again\n',
      );
    }
    return 0;
  },
};
