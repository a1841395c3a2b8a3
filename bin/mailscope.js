#!/usr/bin/env node
// `npx mailscope …`: the CLI is TypeScript, run through tsx (a production dependency), the same
// way `npm start` runs the service.
import { register } from 'tsx/esm/api';

register();
// `mailscope tail | head`: a reader that went away ends the command quietly, as for any Unix
// tool, instead of an unhandled EPIPE.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
