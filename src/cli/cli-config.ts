/**
 * Where the client finds its server and token. Precedence, highest first: flags (`--server`,
 * `--token` or `--token-file`), environment (`LESSOR_URL`, `LESSOR_TOKEN` or `LESSOR_TOKEN_FILE`),
 * the config file, the default server `http://127.0.0.1:8080` (no token). The config file is
 * `--cli-config FILE` when given (it must exist), else `$XDG_CONFIG_HOME/lessor/cli.yaml` or
 * `~/.config/lessor/cli.yaml` (optional):
 *
 *   server: https://lessor.example.com
 *   token: <bearer token>          # or tokenFile: /path/to/token
 *
 * A token file keeps the token out of `ps` and shell history: its content, surrounding whitespace
 * removed, is the token.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isLoopback } from '../domain/loopback.js';
import { UsageError } from './args.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export interface ConnectionFlags {
  readonly server?: string;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly cliConfig?: string;
}

export interface Connection {
  readonly server: string;
  readonly token: string | undefined;
  /** Where `server` came from, for error messages (`--server`, `LESSOR_URL`, a file, `default`). */
  readonly source: string;
}

interface FileSettings {
  readonly server?: string;
  readonly token?: string;
  readonly tokenFile?: string;
}

const FILE_KEYS: readonly string[] = ['server', 'token', 'tokenFile'];

type Env = Readonly<Record<string, string | undefined>>;

/** The default config file path for this environment, or undefined without a home directory. */
export function defaultConfigPath(env: Env): string | undefined {
  const base = nonEmpty(env.XDG_CONFIG_HOME) ?? (nonEmpty(env.HOME) && join(env.HOME as string, '.config'));
  return base ? join(base, 'lessor', 'cli.yaml') : undefined;
}

export function resolveConnection(flags: ConnectionFlags, env: Env): Connection {
  const path = flags.cliConfig ?? defaultConfigPath(env);
  const file = path === undefined ? {} : readConfigFile(path, flags.cliConfig !== undefined);
  const [server, source] = firstOf([
    [flags.server, '--server'],
    [env.LESSOR_URL, 'LESSOR_URL'],
    [file.server, path ?? 'config file'],
    [DEFAULT_SERVER, 'default'],
  ]);
  const token =
    tokenOf([flags.token, '--token'], [flags.tokenFile, '--token-file']) ??
    tokenOf([env.LESSOR_TOKEN, 'LESSOR_TOKEN'], [env.LESSOR_TOKEN_FILE, 'LESSOR_TOKEN_FILE']) ??
    tokenOf(
      [file.token, `${path ?? 'config file'} token`],
      [file.tokenFile, `${path ?? 'config file'} tokenFile`],
    );
  return { server: checkServer(server, source), token, source };
}

/** The token given at one level, inline or as a file; both at once is a mistake worth stopping for. */
function tokenOf(
  [inline, inlineSource]: readonly [string | undefined, string],
  [file, fileSource]: readonly [string | undefined, string],
): string | undefined {
  const path = nonEmpty(file);
  if (path === undefined) return nonEmpty(inline);
  if (nonEmpty(inline) !== undefined) throw new UsageError(`give ${inlineSource} or ${fileSource}, not both`);
  return readTokenFile(path, fileSource);
}

export function readTokenFile(path: string, source: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the token file ${path} (from ${source}): ${(error as Error).message}`);
  }
  const token = text.trim();
  if (token === '') throw new UsageError(`the token file ${path} (from ${source}) is empty`);
  return token;
}

/**
 * A warning when the token would cross the network in clear text: plain http:// to a host other
 * than this machine. Loopback http:// is fine (the default deployment); https:// always is.
 */
export function cleartextTokenWarning(connection: Connection): string | undefined {
  if (connection.token === undefined) return undefined;
  const url = new URL(connection.server);
  if (url.protocol !== 'http:' || isLoopback(url.hostname)) return undefined;
  return (
    `warning: sending the bearer token to ${url.host} over plain http://: anyone on the way can read ` +
    'and reuse it; use https:// (a TLS terminator in front of Lessor)'
  );
}

function firstOf(candidates: readonly [string | undefined, string][]): [string, string] {
  for (const [value, source] of candidates) {
    const text = nonEmpty(value);
    if (text !== undefined) return [text, source];
  }
  return [DEFAULT_SERVER, 'default'];
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function checkServer(server: string, source: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`server '${server}' (from ${source}) is not a URL such as http://127.0.0.1:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`server '${server}' (from ${source}) must be an http:// or https:// URL`);
  }
  return server.replace(/\/+$/, '');
}

/** Reads the YAML config file; a missing default file is fine, a missing explicit one is not. */
export function readConfigFile(path: string, required: boolean): FileSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read CLI config ${path}: ${(error as Error).message}`);
  }
  return parseSettings(text, path);
}

export function parseSettings(text: string, path: string): FileSettings {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new UsageError(`CLI config ${path} is not valid YAML: ${(error as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data))
    throw new UsageError(`CLI config ${path} must be a mapping`);
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!FILE_KEYS.includes(key)) {
      throw new UsageError(`CLI config ${path}: unknown key '${key}' (expected ${FILE_KEYS.join(', ')})`);
    }
    if (typeof value !== 'string') throw new UsageError(`CLI config ${path}: ${key} must be a string`);
    settings[key] = value;
  }
  return settings;
}
