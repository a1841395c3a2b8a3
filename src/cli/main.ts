import { parseArgs } from 'node:util';
import { UsageError, type CliIo, type Command } from './command.ts';
import { COMMANDS } from './commands.ts';
import { SERVICE_HELP, ServiceError } from './graphql-client.ts';

function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    'usage: mailscope <command> [options]',
    '',
    'commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'mailscope <command> --help shows its options.',
    '',
  ].join('\n');
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** Runs `mailscope <argv…>`; resolves with the exit code. */
export async function main(
  argv: readonly string[],
  io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    untilStopped: stopSignal,
  },
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(overview(commands));
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.stderr.write(`mailscope: unknown command "${name}"\n\n${overview(commands)}`);
    return 2;
  }
  try {
    const parsed = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values['help']) {
      const service = 'url' in command.options ? `${SERVICE_HELP}\n` : '';
      io.stdout.write(`usage: mailscope ${command.usage}\n\n${command.summary}\n${service}`);
      return 0;
    }
    return await command.run(parsed, io);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      io.stderr.write(
        `mailscope ${name}: ${(error as Error).message}\nusage: mailscope ${command.usage}\n`,
      );
      return 2;
    }
    const message =
      error instanceof ServiceError || error instanceof Error ? error.message : String(error);
    io.stderr.write(`mailscope ${name}: ${message}\n`);
    return 1;
  }
}
