#!/usr/bin/env node
/**
 * The `lessor` program: the client commands of `src/cli` plus the server commands `serve` and
 * `migrate`. Exit codes follow `src/cli/exit-codes.ts`; configuration errors exit 2 with every problem.
 */
import { buildCli } from '../cli/index.js';
import { ConfigError } from './config/config-error.js';
import { addServerCommands } from './server-commands.js';

const program = buildCli({ serverCommands: addServerCommands });
program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`lessor: invalid configuration\n${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`lessor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
