#!/usr/bin/env node
/**
 * The `lessor` program: the client commands of `src/cli` plus the server commands `serve` and
 * `migrate`. Exit codes follow `src/cli/exit-codes.ts`; configuration errors exit 2 with every problem.
 */
// First: V8 settings must hold before any other module is evaluated (v8-flags.ts).
import './v8-flags.js';
import { buildCli } from '../cli/index.js';
import { ConfigError, formatProblem } from './config/config-error.js';
import { addServerCommands } from './server-commands.js';
import { StartupError } from './startup-error.js';

const program = buildCli({ serverCommands: addServerCommands });
program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    const problems = error.configProblems.map(formatProblem);
    const text = problems.length === 1 ? ` ${problems[0]!}` : `\n  ${problems.join('\n  ')}`;
    process.stderr.write(`lessor: invalid configuration:${text}\n`);
    process.exit(2);
  }
  if (error instanceof StartupError) {
    process.stderr.write(`lessor: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `lessor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
