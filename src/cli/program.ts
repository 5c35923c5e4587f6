/**
 * The `lessor` program: global flags and the client command groups. The composition root adds the
 * server commands (`serve`, `migrate`) through `serverCommands` and calls `parseAsync`.
 *
 * Exit codes (exit-codes.ts): a client command hands its code to `setExitCode` (default: set
 * `process.exitCode`, so the process ends normally). A usage error found by commander (unknown
 * command or flag, missing or bad argument) exits 2 through `exit`, `--help`/`--version` exit 0.
 */
import { readFileSync } from 'node:fs';
import { Command, type CommanderError } from 'commander';
import { parseOutputFormat } from './args.js';
import type { CliIo, TextSink } from './context.js';
import { registerApplyCommand } from './apply-command.js';
import { registerEventsCommand } from './events-command.js';
import { EXIT_CODE_MEANINGS, ExitCode } from './exit-codes.js';
import { parser } from './flags.js';
import { registerPlanCommands } from './plans-commands.js';
import { registerResourceCommands } from './resources-commands.js';
import { registerRolloutCommands } from './rollouts-commands.js';
import { registerTenantCommands } from './tenants-commands.js';
import { registerWebhookCommands } from './webhooks-commands.js';

/** The package version (package.json sits two levels up from both src/cli and dist/cli). */
export function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface BuildCliOptions {
  /** Adds `serve`, `migrate`, … to the program (src/main). */
  readonly serverCommands?: (program: Command) => void;
  readonly stdout?: TextSink;
  readonly stderr?: TextSink;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Receives the exit code of each finished client command (default: `process.exitCode = code`). */
  readonly setExitCode?: (code: number) => void;
  /** Ends the program after a usage error or --help/--version (default: `process.exit`). */
  readonly exit?: (code: number) => void;
  /** The API client's fetch (tests). */
  readonly fetch?: typeof fetch;
}

/** Commander's own terminations, mapped to our exit codes. */
export function exitCodeForCommander(error: CommanderError): number {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.OK;
  return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
}

function exitCodeHelp(): string {
  const rows = Object.entries(EXIT_CODE_MEANINGS).map(
    ([code, meaning]) => `  ${code.padStart(2)}  ${meaning}`,
  );
  return `\nExit codes:\n${rows.join('\n')}\n`;
}

export function buildCli(options: BuildCliOptions = {}): Command {
  const io: CliIo = {
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    env: options.env ?? process.env,
    setExitCode: options.setExitCode ?? ((code) => (process.exitCode = code)),
    ...(options.fetch && { fetch: options.fetch }),
  };
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const program = new Command('lessor')
    .description('Lessor: declare a tenant, get running compute')
    .version(cliVersion(), '--version', 'print the version')
    .option('-s, --server <url>', 'Lessor server URL (env LESSOR_URL; default http://127.0.0.1:8080)')
    .option('--token <token>', 'bearer token (env LESSOR_TOKEN); visible in ps: prefer --token-file')
    .option('--token-file <file>', 'file holding the bearer token (env LESSOR_TOKEN_FILE)')
    .option('--cli-config <file>', 'CLI config file (default ~/.config/lessor/cli.yaml)')
    .option('-o, --output <format>', 'output format: table, json or yaml', parser(parseOutputFormat), 'table')
    .option('--request-timeout <duration>', 'timeout of one HTTP request (default 30s)')
    .addHelpText('after', exitCodeHelp())
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride((error) => {
      exit(exitCodeForCommander(error));
      throw error;
    });
  registerTenantCommands(program, io);
  registerPlanCommands(program, io);
  registerApplyCommand(program, io);
  registerResourceCommands(program, io);
  registerWebhookCommands(program, io);
  registerRolloutCommands(program, io);
  registerEventsCommand(program, io);
  options.serverCommands?.(program);
  return program;
}
