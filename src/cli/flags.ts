/**
 * Flags shared by several commands (spec flags, `--wait`/`--timeout`, paging) and the adapter that
 * lets commander report a bad flag value as a usage error naming the flag.
 */
import { InvalidArgumentError, type Command } from 'commander';
import {
  collectKeyValue,
  collectLabel,
  collectList,
  collectPort,
  parseDuration,
  parsePositiveInt,
  UsageError,
} from './args.js';
import { parsePlanRef } from './tenant-input.js';

/** Wraps a value parser so its UsageError becomes commander's "option '--x' argument … is invalid". */
export function parser<T>(fn: (value: string, previous: T) => T): (value: string, previous: T) => T {
  return (value, previous) => {
    try {
      return fn(value, previous);
    } catch (error) {
      if (error instanceof UsageError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

export const DEFAULT_TIMEOUT = '5m';

export interface WaitFlags {
  readonly wait?: boolean;
  readonly timeout: number;
}

export function addWaitFlags(command: Command, until: string): Command {
  return addTimeoutFlag(
    command.option('--wait', `block until the tenant is ${until} (exit 7 if it fails, 8 on timeout)`),
  );
}

export function addTimeoutFlag(command: Command): Command {
  return command.option(
    '--timeout <duration>',
    'how long --wait/--watch may take, e.g. 90s, 5m',
    parser(parseDuration),
    parseDuration(DEFAULT_TIMEOUT),
  );
}

/** `--limit N` (page size) and `-A, --all` (every page). */
export function addPageFlags(command: Command): Command {
  return command
    .option('--limit <n>', 'page size (1-500)', positiveInt('--limit'))
    .option('-A, --all', 'follow nextCursor and list every page');
}

/** `--secret-env-file FILE`: on create and patch (with the spec flags) and on update. */
export const SECRET_ENV_FILE_OPTION = [
  '--secret-env-file <file>',
  'secret environment variables from a file of KEY=VALUE lines (- for stdin)',
] as const;

/** `--image`, `--env K=V`, `--port 80[:8080]`, … as used by create and patch. */
export function addSpecFlags(command: Command): Command {
  return command
    .option(
      '--plan <name[@revision]>',
      "make the tenant from this plan (default: its latest revision); the other flags override the plan's config",
      parser(parsePlanRef),
    )
    .option('--provider <type>', 'compute provider (docker, process, ecs, fake); default: the server default')
    .option('--image <image>', 'container image (spec.config.image)')
    .option('--env <K=V>', 'environment variable (repeatable)', parser(collectKeyValue))
    .option(
      '--secret-env <K=V>',
      'secret environment variable, never shown back (repeatable; visible in ps: prefer --secret-env-file)',
      parser(collectKeyValue),
    )
    .option(...SECRET_ENV_FILE_OPTION)
    .option(
      '--port <port>',
      'containerPort[:hostPort][/udp] (repeatable; process provider: the single port)',
      parser(collectPort),
    )
    .option('--label <k=v>', 'tenant label (repeatable)', parser(collectLabel))
    .option('--annotation <k=v>', 'tenant annotation (repeatable)', parser(collectKeyValue))
    .option('--command <command>', 'command line, split like a shell would (spec.config.command)')
    .option('--arg <arg>', 'one command argument, appended after --command (repeatable)', collectList)
    .option('--config-json <json>', 'extra spec.config fields as a JSON object')
    .option('--paused', 'create or set the tenant paused (the controller leaves it alone)')
    .option('--no-paused', 'resume a paused tenant');
}

/** `--if-match VERSION`: the write is refused (412 → exit 4) when the tenant moved on. */
export function addIfMatchFlag(command: Command): Command {
  return command.option(
    '--if-match <version>',
    'only if the tenant is still at this version (else exit 4)',
    positiveInt('--if-match'),
  );
}

export function positiveInt(what: string): (value: string, previous: number) => number {
  return parser((value: string) => parsePositiveInt(value, what));
}
