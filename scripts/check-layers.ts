// The house's dependency rule, checked (part of `npm run check`): no import circles between
// files (type-only imports included: they tangle the reading order just the same), and every
// arrow between rooms points down the house. Exits 1 naming each offence.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const SRC = resolve(import.meta.dirname, '../src');

/**
 * Rooms, top to bottom: a file may import from its own room or from a lower one, never from a
 * room at its own height or above. (`http → graphql → delivery → {db, smtp} → config`.)
 */
const ROOMS: Record<string, number> = {
  main: 7,
  app: 6,
  // A client of the service and of its database files: never the whole app.
  cli: 5.5,
  http: 5,
  // The bounce listener: mail coming in, as requests come in over http, handed to delivery.
  bounces: 4.5,
  graphql: 4,
  // Readiness, metrics, retention: they watch delivery and storage; http serves what they say.
  ops: 3.7,
  // Reads the environment with the API's own URI and address rules; the CLI needs only this.
  'load-config': 3.5,
  delivery: 3,
  // Outgoing webhooks: endpoints, the outbox's dispatcher; storage below, the API above.
  webhooks: 3,
  auth: 3,
  db: 2,
  smtp: 2,
  // Sender-domain DNS checks (SPF, DKIM, DMARC): read DNS, know nothing of SMTP or storage.
  'sender-domain': 2,
  // DNS look-ups through DNS_SERVERS, for SMTP and the sender-domain checks alike.
  dns: 1.5,
  secrets: 1,
  logger: 1,
  'listen-error': 1,
  'wait-async': 0,
  // Writes of one event-loop turn leave together (graphql-ws frames, SMTP replies).
  'turn-cork': 0,
  // Log lines of one event-loop turn leave together (the logger's stdout).
  'turn-gathered-lines': 0,
  // Where the files read at run time are (schema.graphql, drizzle/, web/dist/).
  resources: 0,
  // A CommonJS module's named export, from the sources and from the build alike.
  'cjs-export': 0,
  // How a worker thread's entry is found, from the sources or the build.
  'thread-entry': 0,
  config: 0,
  domain: 0,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function roomOf(file: string): string {
  const path = relative(SRC, file);
  if (path.includes('/')) return path.split('/')[0]!;
  // config.ts and its parts (config-security.ts, …) are one room.
  return path.replace(/\.ts$/, '').replace(/^config-.*/, 'config');
}

const files = sourceFiles(SRC);
const imports = new Map<string, string[]>();
for (const file of files) {
  // TypeScript's own scanner: every import, export … from and import(), type-only ones too.
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  imports.set(
    file,
    importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => name.startsWith('./') || name.startsWith('../'))
      .map((name) => resolve(dirname(file), name)),
  );
}

const problems: string[] = [];
const name = (file: string) => `src/${relative(SRC, file)}`;

for (const [file, targets] of imports) {
  const from = roomOf(file);
  for (const target of targets) {
    const to = roomOf(target);
    if (from === to) continue;
    const fromRank = ROOMS[from];
    const toRank = ROOMS[to];
    if (fromRank === undefined || toRank === undefined) {
      problems.push(
        `${name(file)} → ${name(target)}: room "${fromRank === undefined ? from : to}" has no place in scripts/check-layers.ts`,
      );
    } else if (toRank >= fromRank) {
      problems.push(
        `${name(file)} → ${name(target)}: ${from} may not import from ${to} (${toRank === fromRank ? 'same height' : 'upward'})`,
      );
    }
  }
}

// Circles: strongly connected components of the file graph (Tarjan).
let index = 0;
const indexOf = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
function connect(file: string): void {
  indexOf.set(file, index);
  low.set(file, index);
  index += 1;
  stack.push(file);
  onStack.add(file);
  for (const target of imports.get(file) ?? []) {
    if (!imports.has(target)) continue;
    if (!indexOf.has(target)) {
      connect(target);
      low.set(file, Math.min(low.get(file)!, low.get(target)!));
    } else if (onStack.has(target)) {
      low.set(file, Math.min(low.get(file)!, indexOf.get(target)!));
    }
  }
  if (low.get(file) === indexOf.get(file)) {
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1) {
      problems.push(`import circle: ${component.map(name).sort().join(' ↔ ')}`);
    }
  }
}
for (const file of files) if (!indexOf.has(file)) connect(file);

if (problems.length > 0) {
  console.error(
    `layer check: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  process.exit(1);
}
console.log(`layer check: ${files.length} files, no circles, every import points down the house`);
