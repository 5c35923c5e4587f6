/**
 * Starts Lessor (bench-server.ts, i.e. `lessor serve` plus IPC hooks, compiled: server-build.ts) as
 * a child process, so the load generator never shares the server's event loop. Logs go to a file,
 * as in production; the child is configured only through LESSOR_* environment variables.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { freePort } from '../../src/main/testing/free-port.js';
import { PROJECT_ROOT } from './machine.js';
import { compiledEntry, type SERVER_ENTRIES } from './server-build.js';

export { freePort };

export interface LessorProcess {
  readonly url: string;
  readonly pid: number;
  readonly fakeRuntimes: number;
  readonly fakeRuntimesHeapMb: number;
  /** Sends a command to the child (`stats`, `reset-sql`, `resync`) and waits for its answer. */
  rpc<T>(cmd: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export interface LessorProcessOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly logFile: string;
  /** Directory for a V8 CPU profile (`--cpu-prof`), written when the child exits. */
  readonly cpuProfDir?: string;
  readonly startTimeoutMs?: number;
  /** Another entry that speaks the same IPC (the bare Fastify baseline); default bench-server.ts. */
  readonly entry?: (typeof SERVER_ENTRIES)[number];
}

/** LESSOR_BENCH_EXP_* variables of the bench reach every server child (see experiments.ts). */
export function experimentEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[0].startsWith('LESSOR_BENCH_EXP_') && e[1] !== undefined,
    ),
  );
}

export async function startLessorProcess(options: LessorProcessOptions): Promise<LessorProcess> {
  const port = await freePort();
  const logFd = openSync(options.logFile, 'a');
  const execArgv = ['--expose-gc'];
  if (options.cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  const child = fork(await compiledEntry(options.entry ?? 'bench/lib/bench-server.ts'), [], {
    cwd: PROJECT_ROOT,
    execArgv,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...experimentEnv(),
      LESSOR_SERVER__PORT: String(port),
      ...options.env,
    },
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await waitReady(child, options.startTimeoutMs ?? 60_000, options.logFile);
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (message: { id?: number; result?: unknown; error?: string }) => {
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.error !== undefined) waiter.reject(new Error(message.error));
    else waiter.resolve(message.result);
  });
  return {
    url: ready.url,
    pid: child.pid!,
    fakeRuntimes: ready.fakeRuntimes,
    fakeRuntimesHeapMb: ready.fakeRuntimesHeapMb,
    rpc<T>(cmd: string, timeoutMs = 600_000): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`rpc ${cmd} timed out`)), timeoutMs);
        pending.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v as T)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        child.send({ id, cmd });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface Ready {
  url: string;
  fakeRuntimes: number;
  fakeRuntimesHeapMb: number;
}

function waitReady(child: ChildProcess, timeoutMs: number, logFile: string): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lessor did not start within ${timeoutMs} ms (log: ${logFile})`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`lessor exited with code ${String(code)} before it was ready (log: ${logFile})`));
    });
    child.on('message', (message: Partial<Ready> & { type?: string }) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve({
        url: message.url!,
        fakeRuntimes: message.fakeRuntimes ?? 0,
        fakeRuntimesHeapMb: message.fakeRuntimesHeapMb ?? 0,
      });
    });
  });
}
