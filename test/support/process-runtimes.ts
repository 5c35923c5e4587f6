/**
 * Tenants for the `process` provider, and what the OS (not Lessor) says runs for them.
 *
 * Every tenant config carries `LESSOR_TEST_MARK=<mark>` in its environment, so the suite finds each
 * process it caused — including orphans Lessor forgot — by scanning /proc, groups them by the
 * `LESSOR_TENANT_ID` the provider sets, and kills them all at the end. One runtime = one process
 * group (the provider starts each tenant as a detached group leader).
 *
 * The runtime is busybox httpd on `$PORT`, serving a shared web root with two CGI scripts:
 * `/cgi-bin/mode` echoes `$MODE` (which config runs) and `/cgi-bin/slow` answers after 0.8 s (a slow
 * health check: a window between "execution succeeded" and "tenant ready" for crash tests).
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '../../src/domain/tenant.js';

export interface ProcessTenantOptions {
  readonly mode?: string;
  /** Seconds the process sleeps before it listens (a long provider call). */
  readonly startDelayS?: number;
  /** Ignore SIGTERM, so a stop waits for the provider's SIGKILL grace (a long delete). */
  readonly ignoreTerm?: boolean;
  /** Health check on the 0.8 s CGI instead of a TCP connect. */
  readonly slowHealth?: boolean;
  /** The process exits at once unless this file exists (an environment problem a human fixes). */
  readonly requireFile?: string;
}

export interface ProcessWorld {
  readonly mark: string;
  readonly root: string;
  config(options?: ProcessTenantOptions): JsonObject;
  /** Live process groups carrying the mark, by tenant id. */
  runtimes(): Promise<Map<string, number[]>>;
  /** SIGKILLs every marked process group and removes the web root. Idempotent. */
  cleanup(): Promise<void>;
}

const SLOW_CGI = '#!/bin/sh\nsleep 0.8\nprintf "Content-Type: text/plain\\r\\n\\r\\nslow\\n"\n';
const MODE_CGI = '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$MODE"\n';

export async function processWorld(): Promise<ProcessWorld> {
  const mark = randomBytes(6).toString('hex');
  const root = await mkdtemp(join(tmpdir(), 'lessor-proc-www-'));
  await mkdir(join(root, 'cgi-bin'));
  await writeFile(join(root, 'index.html'), 'ok\n');
  for (const [name, text] of [
    ['slow', SLOW_CGI],
    ['mode', MODE_CGI],
  ] as const) {
    await writeFile(join(root, 'cgi-bin', name), text);
    await chmod(join(root, 'cgi-bin', name), 0o755);
  }
  return {
    mark,
    root,
    config: (options = {}) => processConfig(mark, root, options),
    runtimes: () => markedGroups(mark),
    cleanup: async () => {
      await killMarked(mark);
      await rm(root, { recursive: true, force: true });
    },
  };
}

function processConfig(mark: string, root: string, options: ProcessTenantOptions): JsonObject {
  const steps = [
    options.ignoreTerm ? "trap '' TERM" : '',
    options.requireFile ? 'test -f "$REQUIRED_FILE" || exit 3' : '',
    options.startDelayS ? `sleep ${options.startDelayS}` : '',
    'exec /usr/bin/busybox httpd -f -p 127.0.0.1:$PORT -h "$WWW"',
  ].filter(Boolean);
  const env: Record<string, string> = { MODE: options.mode ?? 'one', WWW: root, LESSOR_TEST_MARK: mark };
  if (options.requireFile) env.REQUIRED_FILE = options.requireFile;
  const healthCheck: JsonObject = options.slowHealth
    ? { type: 'http', path: '/cgi-bin/slow', intervalMs: 50, timeoutMs: 5_000, retries: 100 }
    : { type: 'tcp', intervalMs: 50, timeoutMs: 1_000, retries: 400 };
  return { command: ['/bin/sh', '-c', steps.join('; ')], env, healthCheck };
}

interface ProcInfo {
  readonly pid: number;
  readonly pgid: number;
  readonly state: string;
  readonly env: ReadonlyMap<string, string>;
}

async function readProc(pid: number): Promise<ProcInfo | undefined> {
  try {
    const [environ, stat] = await Promise.all([
      readFile(`/proc/${pid}/environ`, 'latin1'),
      readFile(`/proc/${pid}/stat`, 'utf8'),
    ]);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const env = new Map(
      environ
        .split('\0')
        .filter(Boolean)
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const),
    );
    return { pid, pgid: Number(fields[2]), state: fields[0] ?? '?', env };
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

async function markedProcesses(mark: string): Promise<ProcInfo[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const infos = await Promise.all(pids.map((pid) => readProc(pid)));
  return infos.filter(
    (info): info is ProcInfo =>
      info !== undefined &&
      info.env.get('LESSOR_TEST_MARK') === mark &&
      info.state !== 'Z' &&
      info.state !== 'X',
  );
}

async function markedGroups(mark: string): Promise<Map<string, number[]>> {
  const groups = new Map<string, Set<number>>();
  for (const info of await markedProcesses(mark)) {
    const tenantId = info.env.get('LESSOR_TENANT_ID') ?? '?';
    const set = groups.get(tenantId) ?? new Set<number>();
    set.add(info.pgid);
    groups.set(tenantId, set);
  }
  return new Map([...groups].map(([tenant, set]) => [tenant, [...set].sort((a, b) => a - b)]));
}

async function killMarked(mark: string): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const processes = await markedProcesses(mark);
    if (processes.length === 0) return;
    for (const info of processes) {
      for (const target of [-info.pgid, info.pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
