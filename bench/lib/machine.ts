/** Where and on what a bench run happened: machine, Node, commit, and how busy the box was. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type, arch } from 'node:os';
import { fileURLToPath } from 'node:url';
import { round } from './stats.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface MachineInfo {
  readonly cpus: number;
  readonly model: string;
  readonly memGb: number;
  readonly node: string;
  readonly os: string;
  readonly loadavgAtStart: readonly number[];
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    model: list[0]?.model.trim() ?? 'unknown',
    memGb: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    os: `${type()} ${release()} ${arch()}`,
    loadavgAtStart: loadavg().map((v) => round(v)),
  };
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

export interface GitInfo {
  readonly commit: string | null;
  /** Uncommitted changes under src/ (the code measured is not exactly `commit`). */
  readonly dirtySrc: boolean;
}

export function gitInfo(): GitInfo {
  const status = git(['status', '--porcelain', '--', 'src']);
  return { commit: git(['rev-parse', 'HEAD']), dirtySrc: status !== null && status !== '' };
}

export function loadNow(): number {
  return round(loadavg()[0] ?? 0);
}

/** Busy and total jiffies of all CPUs so far, from /proc/stat (null where there is none). */
function cpuTimes(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * Waits until the machine's CPUs were at most `maxBusyPct` busy over a whole second (at most
 * `timeoutMs`), so that a measurement does not start while the previous one's aftermath — a
 * database's checkpoint or autovacuum, a server still exiting — still runs. Returns how long it
 * waited and the busy share it last saw.
 */
export async function awaitQuietMachine(
  maxBusyPct = 15,
  timeoutMs = 60_000,
): Promise<{ waitedMs: number; busyPct: number | null }> {
  const started = Date.now();
  let busyPct: number | null = null;
  while (Date.now() - started < timeoutMs) {
    const before = cpuTimes();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = cpuTimes();
    if (!before || !after || after.total === before.total) return { waitedMs: Date.now() - started, busyPct };
    busyPct = round((100 * (after.busy - before.busy)) / (after.total - before.total), 1);
    if (busyPct <= maxBusyPct) break;
  }
  return { waitedMs: Date.now() - started, busyPct };
}
