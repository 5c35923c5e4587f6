/**
 * A REAL Lessor server as a child process: `node --import tsx src/main/cli-entry.ts serve`, configured only
 * through the environment (README, "Configuration reference"), on a free loopback port, with its own data
 * directory.
 *
 * - `kill(signal)` — default SIGKILL (a crash: nothing flushed); resolves once the process is gone.
 * - `stop()` — SIGTERM (graceful), SIGKILL after a grace period.
 * - `restart()` — stops it if it still runs, then starts it again with the same database, data
 *   directory, port and environment, and waits for `/readyz`.
 * - `logs()` — the recent output (stdout + stderr), for assertion messages.
 * A server still running when the test process exits is killed. With `LESSOR_TEST_LOG_DIR` set,
 * every server's full output is also written to `<dir>/<name>-<port>.log`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LessorClient } from '../../src/api/client.js';
import { freePort } from '../../src/main/testing/free-port.js';

export { freePort };

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = join(REPO_ROOT, 'src', 'main', 'cli-entry.ts');
const LOG_LIMIT = 256 * 1024;
/** `LESSOR_TEST_READY_TIMEOUT_MS` lengthens it on a machine loaded by other work. */
const DEFAULT_READY_TIMEOUT_MS = Number(process.env.LESSOR_TEST_READY_TIMEOUT_MS ?? 0) || 90_000;
const STOP_GRACE_MS = 15_000;

export interface LessorProcessOptions {
  /** `sqlite:/abs/file.db` or `postgres://…/db`. */
  readonly databaseUrl: string;
  /** Extra configuration as `LESSOR_*` variables (they win over the defaults set here). */
  readonly env?: Readonly<Record<string, string>>;
  /** Provider blocks, passed as JSON so numbers stay numbers (`compute.providers.<name>`). */
  readonly providers?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly dataDir?: string;
  readonly port?: number;
  /** Label in error messages (`lessor[a]`). */
  readonly name?: string;
  readonly readyTimeoutMs?: number;
  /** Also append the full output to this file (`logs()` keeps only the recent part). */
  readonly logFile?: string;
}

export interface LessorProcess {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly client: LessorClient;
  readonly name: string;
  /** Pid of the running server, undefined while it is down. */
  pid(): number | undefined;
  running(): boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  logs(): string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
// The test runner ends a file that overran its timeout with SIGTERM, whose default action skips
// 'exit' handlers: exit instead, so that servers (and a restate-server) are not left running.
process.once('SIGTERM', () => process.exit(143));

/** The environment of the parent minus anything that would leak into the server's configuration. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('LESSOR_') || key === 'NODE_OPTIONS' || key === 'NODE_TEST_CONTEXT') continue;
    env[key] = value;
  }
  return env;
}

function serverEnv(options: LessorProcessOptions, port: number, dataDir: string): NodeJS.ProcessEnv {
  const providers = Object.fromEntries(
    Object.entries(options.providers ?? {}).map(([name, block]) => [
      `LESSOR_COMPUTE__PROVIDERS__${name.toUpperCase()}`,
      JSON.stringify(block),
    ]),
  );
  return {
    ...baseEnv(),
    LESSOR_SERVER__HOST: '127.0.0.1',
    LESSOR_SERVER__PORT: String(port),
    LESSOR_DATABASE__URL: options.databaseUrl,
    LESSOR_DATA_DIR: dataDir,
    LESSOR_LOG__LEVEL: 'info',
    LESSOR_SERVER__RATE_LIMIT__PER_MINUTE: '10000000',
    ...providers,
    ...options.env,
  };
}

export async function startLessorProcess(options: LessorProcessOptions): Promise<LessorProcess> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'lessor-e2e-data-')));
  const url = `http://127.0.0.1:${port}`;
  const name = options.name ?? 'lessor';
  const env = serverEnv(options, port, dataDir);
  const log = new LogBuffer();
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const logFile =
    options.logFile ??
    (process.env.LESSOR_TEST_LOG_DIR
      ? join(process.env.LESSOR_TEST_LOG_DIR, `${name}-${port}.log`)
      : undefined);
  const append = (chunk: Buffer): void => {
    log.add(chunk.toString());
    if (logFile) appendFileSync(logFile, chunk);
  };
  const isUp = (c: ChildProcess | null): c is ChildProcess =>
    c !== null && c.exitCode === null && c.signalCode === null;

  const launch = async (): Promise<void> => {
    log.add(`\n---- ${name} starting at ${new Date().toISOString()} ----\n`);
    const started = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'serve'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    live.add(started);
    exited = new Promise((resolve) =>
      started.once('exit', (code, signal) => {
        live.delete(started);
        log.add(`\n---- ${name} exited (${String(code ?? signal)}) ----\n`);
        resolve();
      }),
    );
    started.stdout?.on('data', append);
    started.stderr?.on('data', append);
    await waitReady(url, started, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, () => log.text(), name);
  };

  const signalAndWait = async (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    const current = child;
    if (!isUp(current)) return;
    current.kill(signal);
    const timer = setTimeout(() => current.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url,
    port,
    dataDir,
    name,
    client: new LessorClient({ baseUrl: url, timeoutMs: 15_000 }),
    pid: () => (isUp(child) ? child.pid : undefined),
    running: () => isUp(child),
    kill: (signal = 'SIGKILL') => signalAndWait(signal, 5_000),
    stop: () => signalAndWait('SIGTERM', STOP_GRACE_MS),
    restart: async () => {
      await signalAndWait('SIGTERM', STOP_GRACE_MS);
      await launch();
    },
    logs: () => log.text(),
  };
}

async function waitReady(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  logs: () => string,
  name: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${name} exited (${String(child.exitCode ?? child.signalCode)}) before it was ready:\n${tail(logs())}`,
      );
    }
    const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not answer ${url}/readyz within ${timeoutMs} ms:\n${tail(logs())}`);
}

/** The last LOG_LIMIT characters of a stream, without copying the whole buffer on every chunk. */
class LogBuffer {
  private chunks: string[] = [];
  private size = 0;

  add(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size > 2 * LOG_LIMIT) this.compact();
  }

  text(): string {
    this.compact();
    return this.chunks[0] ?? '';
  }

  private compact(): void {
    const joined = this.chunks.join('').slice(-LOG_LIMIT);
    this.chunks = [joined];
    this.size = joined.length;
  }
}

export function tail(text: string, chars = 6_000): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text;
}
