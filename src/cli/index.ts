/**
 * The CLI's public surface for the composition root: `buildCli` (the program, to which src/main adds
 * `serve` and `migrate`) and `runCli` (parse and run once, resolving to the exit code).
 */
import { CommanderError } from 'commander';
import { buildCli, type BuildCliOptions } from './program.js';

export { buildCli, type BuildCliOptions } from './program.js';
export { EXIT_CODE_MEANINGS, ExitCode } from './exit-codes.js';

/**
 * Runs `lessor` once with `argv` (without the node and script entries) and resolves to the exit code
 * instead of exiting the process. Errors thrown by server commands propagate.
 */
export async function runCli(
  argv: readonly string[],
  options: Omit<BuildCliOptions, 'setExitCode' | 'exit'> = {},
): Promise<number> {
  let code = 0;
  const program = buildCli({ ...options, setExitCode: (c) => (code = c), exit: (c) => (code = c) });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
  }
  return code;
}
