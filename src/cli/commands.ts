import { backup } from './backup.ts';
import type { Command } from './command.ts';
import { createToken } from './create-token.ts';
import { migrate } from './migrate.ts';
import { send } from './send.ts';
import { stats } from './stats.ts';
import { tail } from './tail.ts';

/** Every `mailscope` command, in the order `--help` lists them. A new one is one more line. */
export const COMMANDS: readonly Command[] = [migrate, send, tail, stats, backup, createToken];
