import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.ts';
import { getStatus } from './graphql-client.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const FROM = 'no-reply@mailscope.localhost';

export interface ShutdownInfo {
  /** Exit status, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From SIGTERM to exit. */
  ms: number;
  lastLine: string;
}

export interface ServiceProcess {
  url: string;
  pid: number;
  /** From spawn until /healthz first answered 200. */
  readyMs: number;
  /** Waits for /readyz 200 (delivery thread up too); ms from spawn until it first answered. */
  untilReadyz(): Promise<number>;
  /** Resident set size of the whole process (main and delivery threads), MiB. */
  rssMiB(): number;
  /** Peak resident set size so far (VmHWM), MiB. */
  peakRssMiB(): number;
  /** SIGTERM (SIGKILL after 20 s), wait for the exit, remove the temp dir. Safe to call twice. */
  stop(): Promise<ShutdownInfo | null>;
}

export interface ServiceOptions {
  /** Variables on top of the bench's environment and the defaults below. */
  env?: Record<string, string>;
  /** Use this SQLite file instead of a fresh one in a temp dir (kept afterwards). */
  databasePath?: string;
  /** Run with --cpu-prof and write the profile here. */
  cpuProfDir?: string | null;
  /** Run src/main.ts through tsx instead of the build in dist/. @default false */
  fromSources?: boolean;
}

/**
 * `npm start`'s command: the build in dist/ (`npm run bench` builds it first), or the TypeScript
 * sources through tsx when asked, to compare the two.
 */
function entryArgs(fromSources: boolean): string[] {
  if (fromSources) return ['--import', 'tsx', 'src/main.ts'];
  if (!existsSync(join(repoRoot, 'dist', 'main.js'))) {
    throw new Error('dist/main.js is missing: run `npm run build:server` (npm run bench does)');
  }
  return ['--enable-source-maps', 'dist/main.js'];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/**
 * The service as `npm start` runs it (`node dist/main.js`, production mode), on a port chosen
 * here; ready once /healthz answers 200, whatever it logs.
 */
export async function startServiceProcess(options: ServiceOptions = {}): Promise<ServiceProcess> {
  let databasePath = options.databasePath;
  let removeDir = async () => {};
  if (databasePath === undefined) {
    const dir = mkdtempSync(join(os.tmpdir(), 'mailscope-bench-'));
    removeDir = onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    databasePath = join(dir, 'mailscope.db');
  }
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_PATH: databasePath,
    PORT: String(port),
    HOST: '127.0.0.1',
    EMBEDDED_SMTP_PORT: 'off',
    SMTP_FROM_ADDRESS: FROM,
    NODE_ENV: 'production',
    ...options.env,
  };
  delete childEnv['API_TOKEN'];
  const flags = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  // Node's and V8's flags for the service, to look at it (--log-deopt, --trace-gc, …).
  flags.push(...(process.env['BENCH_SERVICE_FLAGS']?.split(' ').filter(Boolean) ?? []));
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [...flags, ...entryArgs(options.fromSources ?? false)],
    { cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // The last 64 KiB or so of the service's output, for errors. Chunks are kept as they come:
  // joining and slicing a 64 KiB string per chunk cost this process (the bench's client) a
  // copy for every few log lines while the service ran.
  const tail: string[] = [];
  let tailLength = 0;
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    tail.push(text);
    tailLength += text.length;
    while (tail.length > 1 && tailLength - tail[0]!.length >= 64 * 1024) {
      tailLength -= tail.shift()!.length;
    }
  };
  const output = () => tail.join('');
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let shutdown: ShutdownInfo | null = null;
  const stopChild = onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const stopping = performance.now();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    shutdown = {
      code: child.exitCode,
      signal: child.signalCode,
      ms: performance.now() - stopping,
      lastLine: output().trim().split('\n').at(-1) ?? '',
    };
  });
  const stop = async () => {
    await stopChild();
    await removeDir();
    return shutdown;
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 60_000;
  for (;;) {
    if ((await getStatus(`${url}/healthz`)) === 200) break;
    if (child.exitCode !== null || child.signalCode !== null || performance.now() > deadline) {
      await stop();
      throw new Error(
        child.exitCode !== null
          ? `the service exited with status ${child.exitCode} before it was ready:\n${output()}`
          : `the service did not start within 60 s:\n${output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const readyMs = performance.now() - started;
  const pid = child.pid!;
  const untilReadyz = async () => {
    while ((await getStatus(`${url}/readyz`)) !== 200) {
      if (child.exitCode !== null || performance.now() > deadline) {
        throw new Error(`/readyz was not 200 within 60 s:\n${output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return performance.now() - started;
  };
  return {
    url,
    pid,
    readyMs,
    untilReadyz,
    rssMiB: () => statusKiB(pid, 'VmRSS') / 1024,
    peakRssMiB: () => statusKiB(pid, 'VmHWM') / 1024,
    stop,
  };
}
