#!/usr/bin/env node
/**
 * The client commands alone, runnable without the server side: `tsx src/cli/client-entry.ts tenants
 * list`. The real `lessor` binary is src/main/cli-entry.ts, which adds `serve` and `migrate`.
 */
import { runCli } from './index.js';

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `lessor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
