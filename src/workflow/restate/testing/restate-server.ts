/**
 * A real `restate-server` for tests (CONTRIBUTING.md, "Set-up"), from the npm dev dependency
 * `@restatedev/restate-server` (binary `node_modules/@restatedev/restate-server-<os>-<arch>/bin/
 * restate-server`, or `RESTATE_SERVER_BIN`). It listens on three free loopback ports and keeps its
 * data in a fresh temporary directory:
 *
 * - `kill()` — SIGKILL, nothing flushed (a crash); data and ports are kept.
 * - `restart()` — starts it again on the same ports and data (after `kill`, or stops it first).
 * - `stop()` — SIGTERM, then removes the data directory. Idempotent.
 * A server still running when the test process exits is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RestateServer {
  readonly ingressUrl: string;
  readonly adminUrl: string;
  /** The node's Prometheus metrics (`restate_invoker_*`, …), on its fabric port. */
  readonly metricsUrl: string;
  /** The running server's process id, for measuring it (undefined while it is not running). */
  pid(): number | undefined;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** The server's recent output, for diagnostics. */
  output(): string;
}

// The test runner ends a file that overran its timeout with SIGTERM, whose default action skips
// 'exit' handlers: exit instead, so that a running server is killed (`onExit`), not left behind.
process.once('SIGTERM', () => process.exit(143));

const PROJECT_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const OUTPUT_LIMIT = 16_384;

export function restateServerBinary(): string {
  const override = process.env.RESTATE_SERVER_BIN;
  if (override) return override;
  const arch = process.arch === 'x64' ? 'x64' : process.arch;
  return join(
    PROJECT_ROOT,
    'node_modules',
    '@restatedev',
    `restate-server-${process.platform}-${arch}`,
    'bin',
    'restate-server',
  );
}

export interface RestateServerOptions {
  /** Extra `RESTATE_*` settings, e.g. a request-identity private key. */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startRestateServer(options: RestateServerOptions = {}): Promise<RestateServer> {
  const binary = restateServerBinary();
  if (!existsSync(binary)) {
    throw new Error(
      `restate-server binary not found at ${binary}: run \`npm ci\` (it comes with the dev dependency @restatedev/restate-server)`,
    );
  }
  const [ingress, admin, fabric] = (await freePorts(3)) as [number, number, number];
  const dir = await mkdtemp(join(tmpdir(), 'lessor-restate-'));
  const server = new ServerProcess(binary, dir, { ingress, admin, fabric }, options.env ?? {});
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    ingressUrl: `http://127.0.0.1:${ingress}`,
    adminUrl: `http://127.0.0.1:${admin}`,
    metricsUrl: `http://127.0.0.1:${fabric}/metrics`,
    pid: () => server.pid,
    stop: () => server.stop(),
    kill: () => server.kill(),
    restart: () => server.restart(),
    output: () => server.output,
  };
}

class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;
  output = '';
  private readonly onExit = (): void => {
    this.child?.kill('SIGKILL');
  };

  constructor(
    private readonly binary: string,
    private readonly dir: string,
    private readonly ports: { ingress: number; admin: number; fabric: number },
    private readonly extraEnv: Readonly<Record<string, string>>,
  ) {}

  async start(): Promise<void> {
    const child = spawn(this.binary, ['--no-logo'], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const append = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    process.once('exit', this.onExit);
    await this.waitHealthy(child);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error('restate-server was stopped (its data removed); start a new one');
    await this.signal('SIGTERM');
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.signal('SIGTERM');
    await rm(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    process.off('exit', this.onExit);
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await this.exited;
  }

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      RESTATE_BASE_DIR: join(this.dir, 'data'),
      RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${this.ports.ingress}`,
      RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${this.ports.admin}`,
      RESTATE_BIND_ADDRESS: `127.0.0.1:${this.ports.fabric}`,
      RESTATE_DEFAULT_NUM_PARTITIONS: '2',
      RESTATE_LISTEN_MODE: 'tcp',
      RESTATE_DISABLE_TELEMETRY: 'true',
      RESTATE_LOG_FILTER: process.env.RESTATE_LOG_FILTER ?? 'warn',
      RESTATE_LOG_DISABLE_ANSI_CODES: 'true',
      ...this.extraEnv,
    };
  }

  private async waitHealthy(child: ChildProcess): Promise<void> {
    const url = `http://127.0.0.1:${this.ports.admin}/health`;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `restate-server exited (${String(child.exitCode ?? child.signalCode)}) before it was healthy:\n${this.output}`,
        );
      }
      try {
        if ((await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`restate-server did not answer ${url} within ${READY_TIMEOUT_MS} ms:\n${this.output}`);
  }
}

/** Distinct free loopback ports: all are held open together, then released. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
    }),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
