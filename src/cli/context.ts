/**
 * What a client command runs with: the global flags, where output goes, and a lazily built API
 * client. `action()` wraps a command body so that every failure is reported one way
 * (failure.ts) and ends in an exit code, never in a stack trace.
 */
import type { Command } from 'commander';
import { LessorClient } from '../api/client.js';
import { parseDuration, parseOutputFormat, type OutputFormat } from './args.js';
import { cleartextTokenWarning, resolveConnection, type Connection } from './cli-config.js';
import { ExitCode } from './exit-codes.js';
import { describeFailure } from './failure.js';
import type { RenderOptions } from './output.js';

/** Where text goes (process.stdout or a test buffer). */
export interface TextSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Receives the exit code of every client command that finishes. */
  readonly setExitCode: (code: number) => void;
  /** Options for the API client that tests may change (e.g. a fetch implementation). */
  readonly fetch?: typeof fetch;
}

/** The program-wide flags (see program.ts). */
export interface GlobalFlags {
  readonly server?: string;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly cliConfig?: string;
  readonly output?: string;
  readonly requestTimeout?: string;
}

export class CommandContext {
  private connection: Connection | undefined;
  private apiClient: LessorClient | undefined;
  readonly format: OutputFormat;

  constructor(
    readonly io: CliIo,
    private readonly flags: GlobalFlags,
  ) {
    this.format = parseOutputFormat(flags.output ?? 'table');
  }

  get render(): RenderOptions {
    return { format: this.format, tty: this.io.stdout.isTTY === true };
  }

  get server(): string | undefined {
    return this.connection?.server;
  }

  client(): LessorClient {
    if (this.apiClient) return this.apiClient;
    this.connection = resolveConnection(this.flags, this.io.env);
    const warning = cleartextTokenWarning(this.connection);
    if (warning !== undefined) this.err(warning);
    const timeoutMs =
      this.flags.requestTimeout === undefined ? undefined : parseDuration(this.flags.requestTimeout);
    this.apiClient = new LessorClient({
      baseUrl: this.connection.server,
      token: this.connection.token,
      ...(timeoutMs !== undefined && { timeoutMs }),
      ...(this.io.fetch && { fetch: this.io.fetch }),
    });
    return this.apiClient;
  }

  out(text: string): void {
    this.io.stdout.write(text);
  }

  err(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** A command body: gets the context and commander's arguments, returns an exit code (default 0). */
export type CommandBody<A extends unknown[]> = (ctx: CommandContext, ...args: A) => Promise<number | void>;

/**
 * An action handler for commander: builds the context from the global flags, runs `body`, reports
 * any failure on stderr and hands the exit code to `io.setExitCode`.
 */
export function action<A extends unknown[]>(
  io: CliIo,
  body: CommandBody<A>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    let ctx: CommandContext | undefined;
    let code: number;
    try {
      ctx = new CommandContext(io, command.optsWithGlobals<GlobalFlags>());
      code = (await body(ctx, ...(args.slice(0, -1) as A))) ?? ExitCode.OK;
    } catch (error) {
      const failure = describeFailure(error, ctx?.server);
      for (const line of failure.lines) io.stderr.write(`${line}\n`);
      code = failure.exitCode;
    }
    io.setExitCode(code);
  };
}
