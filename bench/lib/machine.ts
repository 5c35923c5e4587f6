/** Where and on what a bench run happened: machine, Node, commit, and how busy the box was. */
import { execFileSync } from 'node:child_process';
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
