import { loadConfigFromEnv, startApp } from './app.ts';

const loaded = loadConfigFromEnv(process.env);
if (!loaded.ok) {
  console.error(
    `mailscope: invalid configuration:\n${loaded.problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  process.exit(1);
}
const { config } = loaded;

const app = await startApp(config);
const smtp = app.embeddedSmtp
  ? `embedded development SMTP server on ${app.embeddedSmtp.host}:${app.embeddedSmtp.port}`
  : 'configured SMTP server';
console.log(`mailscope: GraphQL at ${app.url}/graphql, delivering to the ${smtp}`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`mailscope: ${signal} received, finishing in-flight deliveries`);
  // A stuck close must not keep the process alive forever; the lease recovers anything left.
  const force = setTimeout(() => {
    console.error('mailscope: shutdown took too long, exiting');
    process.exit(1);
  }, 15_000);
  force.unref();
  await app.close();
  console.log('mailscope: stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
