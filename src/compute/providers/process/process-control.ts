/**
 * OS process primitives for the process provider (Linux: reads /proc). A runtime is identified by
 * pid + start marker, so a reused pid is never mistaken for (or killed as) the tenant's process.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessIdentity {
  readonly pid: number;
  readonly startMarker: string;
}

export interface SpawnSpec {
  readonly command: readonly string[];
  readonly cwd?: string | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly logPath: string;
  /** Where stderr goes; with `logPath` when left out. */
  readonly errorLogPath?: string;
  /** Switch to this uid/gid (no supplementary groups) before exec; needs root. */
  readonly runAs?: { readonly uid: number; readonly gid: number };
}

/** Starts a detached process group leader whose output goes to `logPath`; resolves once it runs. */
export async function spawnDetached(spec: SpawnSpec): Promise<ProcessIdentity> {
  const [file, ...args] = spec.command;
  if (file === undefined) throw new Error('empty command');
  const logFd = openSync(spec.logPath, 'a', 0o600);
  const errorFd = spec.errorLogPath === undefined ? logFd : openSync(spec.errorLogPath, 'a', 0o600);
  try {
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', logFd, errorFd],
      cwd: spec.cwd,
      env: spec.env,
      ...(spec.runAs !== undefined && { uid: spec.runAs.uid, gid: spec.runAs.gid }),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.on('error', () => undefined); // later signalling errors are observed through /proc instead
    child.unref();
    const pid = child.pid!;
    const stat = await readStat(pid);
    return { pid, startMarker: stat?.startTime ?? '' };
  } finally {
    closeSync(logFd);
    if (errorFd !== logFd) closeSync(errorFd);
  }
}

interface ProcStat {
  readonly state: string;
  readonly startTime: string;
  readonly processGroup: number;
}

/** Fields of /proc/<pid>/stat after the `(comm)` field, which may contain spaces. */
async function readStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); field 5 (pgrp) is fields[2]; field 22 (starttime) is fields[19].
    return { state: fields[0] ?? '?', startTime: fields[19] ?? '', processGroup: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/** True when `pid` runs and is the same process (start marker) — zombies count as dead. */
export async function isAlive(identity: ProcessIdentity): Promise<boolean> {
  const stat = await readStat(identity.pid);
  return (
    stat !== undefined && stat.state !== 'Z' && stat.state !== 'X' && stat.startTime === identity.startMarker
  );
}

/**
 * Stops the process group led by `identity`: SIGTERM, then SIGKILL after `graceMs`. A process that
 * is gone (or whose pid now belongs to someone else) is left alone. Resolves once it is dead.
 */
export async function stopProcessGroup(identity: ProcessIdentity, graceMs: number): Promise<void> {
  if (!(await isAlive(identity))) return;
  signalGroup(identity.pid, 'SIGTERM');
  if (await waitDead(identity, graceMs)) {
    signalGroup(identity.pid, 'SIGKILL'); // stragglers of the group whose leader already left
    return;
  }
  signalGroup(identity.pid, 'SIGKILL');
  await waitDead(identity, 5_000);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function waitDead(identity: ProcessIdentity, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await isAlive(identity))) return true;
    await sleep(25);
  }
  return !(await isAlive(identity));
}

/** A port free on 127.0.0.1 right now (listen on 0, read it, close). */
export async function pickFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}

/** Live processes whose environment carries `LESSOR_TENANT_ID=<tenantId>` (engine-side discovery). */
export async function findTenantProcesses(tenantId: string): Promise<number[]> {
  const marker = `LESSOR_TENANT_ID=${tenantId}\0`;
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  for (const pid of pids) {
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    if (!`${environ}\0`.includes(marker)) continue;
    const stat = await readStat(pid);
    if (stat && stat.state !== 'Z' && stat.state !== 'X') found.push(pid);
  }
  return found;
}

/**
 * Live process-group leaders launched for `tenantId` (the runtimes as the OS sees them, whatever
 * Lessor's records say): a crash between spawning and recording leaves one only the OS knows of.
 */
export async function findTenantGroupLeaders(tenantId: string): Promise<ProcessIdentity[]> {
  const leaders: ProcessIdentity[] = [];
  for (const pid of await findTenantProcesses(tenantId)) {
    const stat = await readStat(pid);
    if (stat && stat.processGroup === pid) leaders.push({ pid, startMarker: stat.startTime });
  }
  return leaders;
}
