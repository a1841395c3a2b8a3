import { requiredOption, stringOption, UsageError, type Command } from './command.ts';
import { request, SERVICE_USAGE, serviceOptions, serviceTarget } from './graphql-client.ts';

const CREATE = `mutation ($name: String!, $scope: ApiTokenScope!) {
  createApiToken(name: $name, scope: $scope) { token apiToken { id name scope createdAt } }
}`;

const SCOPES = ['admin', 'read'] as const;

export const createToken: Command = {
  name: 'create-token',
  summary: 'create an API token (admin or read) and print it; it is shown only this once',
  usage: `create-token --name <label> [--scope admin|read] [--json] ${SERVICE_USAGE}`,
  options: {
    ...serviceOptions,
    name: { type: 'string' },
    scope: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const name = requiredOption(args, 'name');
    const scope = (stringOption(args, 'scope') ?? 'read').toLowerCase();
    if (!(SCOPES as readonly string[]).includes(scope)) {
      throw new UsageError(`--scope must be admin or read, not "${scope}"`);
    }
    const data = await request<{
      createApiToken: {
        token: string;
        apiToken: { id: string; name: string; scope: string; createdAt: string };
      };
    }>(serviceTarget(args, io), CREATE, { name, scope: scope.toUpperCase() });
    const created = data.createApiToken;
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
