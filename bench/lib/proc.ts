/**
 * Process and machine CPU/memory from /proc (Linux): CPU time of one process (utime+stime), its
 * resident set, its read and write system calls, and machine-wide busy time — so every figure can
 * say how loaded the box was, and what of a process's work was the kernel's.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { round, sleep } from './stats.js';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface ProcSample {
  /** CPU seconds used so far (user + system). */
  readonly cpuSeconds: number;
  /** Of them, in the kernel (system time). */
  readonly systemSeconds: number;
  readonly rssMb: number;
}

export function readProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return {
    cpuSeconds: (utime + stime) / ticksPerSecond(),
    systemSeconds: stime / ticksPerSecond(),
    rssMb: rssKb / 1024,
  };
}

/**
 * Read- and write-family system calls the process made so far (`syscr` + `syscw` of
 * /proc/<pid>/io: read, pread, readv, write, pwrite, writev … on files and sockets alike; not
 * fcntl, epoll or futex). A count, so it does not move with the machine's speed the way CPU time
 * does; 0 where the kernel keeps no I/O accounting.
 */
export function readIoCalls(pid: number): number {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/syscr:\s+(\d+)/.exec(io)?.[1] ?? 0) + Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Nanoseconds the process's main thread ran, and waited runnable for a CPU (/proc/<pid>/schedstat). */
export function readSchedstat(pid: number): { runNs: number; waitNs: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { runNs: run ?? 0, waitNs: wait ?? 0 };
  } catch {
    return { runNs: 0, waitNs: 0 };
  }
}

/** CPU pressure (PSI "some" avg10): share of time some task waited for a CPU, machine-wide. */
export function cpuPressure(): number | null {
  try {
    return Number(/some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return null;
  }
}

export interface MachineCpu {
  readonly busy: number;
  readonly total: number;
}

export function readMachineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((sum, v) => sum + v, 0);
  return { busy: total - idle, total };
}

/** CPU use between two readings, in percent of ONE core (100 = one core saturated). */
export function cpuPercent(before: ProcSample, after: ProcSample, elapsedMs: number): number {
  return round(((after.cpuSeconds - before.cpuSeconds) / (elapsedMs / 1000)) * 100);
}

/** Machine busy share between two readings, in percent of ALL cores. */
export function machineBusyPercent(before: MachineCpu, after: MachineCpu): number {
  const total = after.total - before.total;
  return total <= 0 ? 0 : round(((after.busy - before.busy) / total) * 100);
}

/** Measures a process (and the machine) over a code path: CPU % of one core, peak RSS. */
export class UsageMeter {
  private readonly start = Date.now();
  private readonly proc: ProcSample;
  private readonly machine = readMachineCpu();
  private readonly self = process.cpuUsage();
  private readonly sched: { runNs: number; waitNs: number };
  private readonly ioCalls: number;

  constructor(private readonly pid: number) {
    this.proc = readProc(pid);
    this.sched = readSchedstat(pid);
    this.ioCalls = readIoCalls(pid);
  }

  /**
   * `serverRunqueueWaitPct`: time the server's main thread was runnable but had no CPU — contention.
   * `serverKernelPct`: the share of the server's CPU time spent in the kernel. `serverIoCalls`: its
   * read and write system calls (`readIoCalls`).
   */
  finish(): {
    serverCpuPct: number;
    serverCpuS: number;
    serverKernelPct: number;
    serverIoCalls: number;
    serverRunqueueWaitPct: number;
    clientCpuPct: number;
    machineBusyPct: number;
    cpuPressure: number | null;
    serverRssMb: number;
  } {
    const elapsed = Date.now() - this.start;
    const now = readProc(this.pid);
    const self = process.cpuUsage(this.self);
    const sched = readSchedstat(this.pid);
    const cpuS = now.cpuSeconds - this.proc.cpuSeconds;
    return {
      serverCpuPct: cpuPercent(this.proc, now, elapsed),
      serverCpuS: round(cpuS, 3),
      serverKernelPct: cpuS > 0 ? round(((now.systemSeconds - this.proc.systemSeconds) / cpuS) * 100) : 0,
      serverIoCalls: readIoCalls(this.pid) - this.ioCalls,
      serverRunqueueWaitPct: round(((sched.waitNs - this.sched.waitNs) / 1e6 / elapsed) * 100),
      clientCpuPct: round(((self.user + self.system) / 1000 / elapsed) * 100),
      machineBusyPct: machineBusyPercent(this.machine, readMachineCpu()),
      cpuPressure: cpuPressure(),
      serverRssMb: round(now.rssMb, 1),
    };
  }
}

export interface IdleProfile {
  readonly windowS: number;
  readonly cpuPct: number;
  readonly peakCpuPctPerSecond: number;
  readonly rssMbMax: number;
  readonly rssMbEnd: number;
  readonly machineBusyPct: number;
  /** Each second of the window: the process's CPU % and RSS (MB) — where a peak sits. */
  readonly perSecond: readonly { readonly cpuPct: number; readonly rssMb: number }[];
}

/** Samples `pid` once a second for `durationMs`: average CPU, the busiest second, RSS. */
export async function sampleIdle(pid: number, durationMs: number): Promise<IdleProfile> {
  const first = readProc(pid);
  const machine = readMachineCpu();
  const started = Date.now();
  let previous = first;
  let previousAt = started;
  let peak = 0;
  let rssMax = first.rssMb;
  const perSecond: { cpuPct: number; rssMb: number }[] = [];
  while (Date.now() - started < durationMs) {
    await sleep(Math.min(1000, durationMs - (Date.now() - started)));
    const now = readProc(pid);
    const at = Date.now();
    const cpuPct = cpuPercent(previous, now, at - previousAt);
    perSecond.push({ cpuPct, rssMb: round(now.rssMb, 1) });
    peak = Math.max(peak, cpuPct);
    rssMax = Math.max(rssMax, now.rssMb);
    previous = now;
    previousAt = at;
  }
  const elapsed = Date.now() - started;
  return {
    windowS: round(elapsed / 1000, 1),
    cpuPct: cpuPercent(first, previous, elapsed),
    peakCpuPctPerSecond: peak,
    rssMbMax: round(rssMax, 1),
    rssMbEnd: round(previous.rssMb, 1),
    machineBusyPct: machineBusyPercent(machine, readMachineCpu()),
    perSecond,
  };
}
