import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { baseEnv, closeWith, killOnExit, type Scope } from './scope.ts';
import { waitFor } from './wait-for.ts';

const BIN = fileURLToPath(new URL('../../bin/mailscope.js', import.meta.url));

/** Longer than any command takes; a command still running then is killed and reported. */
const EXIT_TIMEOUT_MS = 30_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  stdout(): string;
  stderr(): string;
  /** SIGINT (Ctrl-C), then the exit code (killed, and an error, if it does not exit). */
  stop(): Promise<number | null>;
  /** The exit code once it exits by itself (killed, and an error, if it does not in time). */
  exited(): Promise<number | null>;
}

/**
 * Starts the real `mailscope` bin (package.json "bin") as a child process, with only `env` and
 * the basics of this environment (see `baseEnv`). Stopped when `scope` ends if it still runs.
 */
export function startCli(
  scope: Scope,
  args: readonly string[],
  env: Record<string, string> = {},
): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  const exited = async () => {
    try {
      await waitFor(() => exitCode !== undefined, {
        timeoutMs: EXIT_TIMEOUT_MS,
        description: `mailscope ${args.join(' ')} to exit`,
      });
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message} (killed it)\n${stdout}${stderr}`);
    }
    return exitCode ?? null;
  };
  const stop = async () => {
    if (exitCode === undefined) child.kill('SIGINT');
    return exited();
  };
  closeWith(scope, stop);
  return { stdout: () => stdout, stderr: () => stderr, stop, exited };
}

/** Runs `mailscope <args>` to completion. */
export async function runCli(
  scope: Scope,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const cli = startCli(scope, args, env);
  const code = await cli.exited();
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
