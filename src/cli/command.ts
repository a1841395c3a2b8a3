import type { ParseArgsConfig } from 'node:util';

/** Where a command writes, and what it reads from its environment. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Resolves when the user asks to stop (Ctrl-C, SIGTERM); for commands that follow a feed. */
  untilStopped(): Promise<void>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** One `mailscope <name>` command; each lives in its own file and is listed in commands.ts. */
export interface Command {
  name: string;
  /** One line for `mailscope --help`. */
  summary: string;
  /** e.g. `send --to <address> [--subject <text>]`; shown by `mailscope <name> --help`. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Resolves with the process exit code. */
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/** Thrown for a usage mistake: printed without a stack, exit code 2. */
export class UsageError extends Error {}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredOption(args: ParsedArgs, name: string): string {
  const value = stringOption(args, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}
