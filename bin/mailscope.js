#!/usr/bin/env node
// `npx mailscope …`: the CLI is TypeScript, run through tsx (a production dependency), the same
// way `npm start` runs the service.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
