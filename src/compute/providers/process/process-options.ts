/**
 * The process provider's block under `compute.providers.process` (host-level settings, never tenant
 * config), checked once at start-up. See docs/providers/process.md for the trust model.
 *
 * - `stopGraceMs` (default 3000): SIGTERM → SIGKILL grace when a process is stopped.
 * - `startupGraceMs` (default 300): without a health check, how long a process must stay up.
 * - `allowRemote` (default false): the provider runs tenant commands on Lessor's own host, so a
 *   Lessor serving beyond loopback refuses to start with it unless this is `true` (checked by the
 *   composition root, which knows `server.host`).
 * - `logMaxBytes` (default 10 MiB) and `logFiles` (default 3): each tenant's stdout and stderr
 *   file is rotated past `logMaxBytes`, keeping `logFiles` older copies (process-logs.ts).
 * - `runAs` (`{uid, gid}`, default none): tenants run under this uid/gid instead of Lessor's own
 *   user, with no supplementary groups. Only a Lessor running as root can switch users, so the
 *   option is refused otherwise rather than failing on every spawn.
 */
import { ValidationError, type FieldProblem } from '../../../domain/errors.js';

export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

export interface ProcessOptions {
  readonly stopGraceMs?: number;
  readonly startupGraceMs?: number;
  readonly allowRemote: boolean;
  readonly runAs?: RunAs;
  readonly logMaxBytes?: number;
  readonly logFiles?: number;
}

/** Lessor's own uid (undefined where the platform has none). */
export type CurrentUid = () => number | undefined;

const processUid: CurrentUid = () => process.getuid?.();

/** @throws ValidationError naming every bad key, paths relative to the provider block. */
export function parseProcessOptions(
  options: Readonly<Record<string, unknown>>,
  currentUid: CurrentUid = processUid,
): ProcessOptions {
  const problems: FieldProblem[] = [];
  const stopGraceMs = nonNegativeInt(options.stopGraceMs, 'stopGraceMs', problems);
  const startupGraceMs = nonNegativeInt(options.startupGraceMs, 'startupGraceMs', problems);
  const allowRemote = options.allowRemote ?? false;
  if (typeof allowRemote !== 'boolean')
    problems.push({ path: 'allowRemote', message: 'must be true or false' });
  const runAs = parseRunAs(options.runAs, currentUid, problems);
  const logMaxBytes = nonNegativeInt(options.logMaxBytes, 'logMaxBytes', problems);
  if (logMaxBytes !== undefined && logMaxBytes < 1024)
    problems.push({ path: 'logMaxBytes', message: 'must be at least 1024' });
  const logFiles = nonNegativeInt(options.logFiles, 'logFiles', problems);
  if (logFiles !== undefined && logFiles > 100)
    problems.push({ path: 'logFiles', message: 'must be at most 100' });
  if (problems.length > 0) throw new ValidationError('invalid process provider options', problems);
  return {
    ...(stopGraceMs !== undefined && { stopGraceMs }),
    ...(startupGraceMs !== undefined && { startupGraceMs }),
    allowRemote: allowRemote === true,
    ...(runAs !== undefined && { runAs }),
    ...(logMaxBytes !== undefined && { logMaxBytes }),
    ...(logFiles !== undefined && { logFiles }),
  };
}

function parseRunAs(value: unknown, currentUid: CurrentUid, problems: FieldProblem[]): RunAs | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ path: 'runAs', message: 'must be {uid, gid}' });
    return undefined;
  }
  const raw = value as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((key) => key !== 'uid' && key !== 'gid');
  for (const key of unknown)
    problems.push({ path: `runAs.${key}`, message: 'unknown key (expected uid, gid)' });
  // 0 would be root again: leave runAs out to run tenants as Lessor's own user.
  const uid = positiveInt(raw.uid, 'runAs.uid', problems);
  const gid = positiveInt(raw.gid, 'runAs.gid', problems);
  if (uid === undefined || gid === undefined || unknown.length > 0) return undefined;
  if (currentUid() !== 0) {
    problems.push({
      path: 'runAs',
      message: `switching tenants to uid ${uid} needs Lessor to run as root (it runs as uid ${String(currentUid())})`,
    });
    return undefined;
  }
  return { uid, gid };
}

/** Numbers may arrive as text from the environment or `--set`. */
function asNumber(value: unknown): unknown {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
}

function nonNegativeInt(value: unknown, path: string, problems: FieldProblem[]): number | undefined {
  if (value === undefined) return undefined;
  const n = asNumber(value);
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
  problems.push({ path, message: 'must be an integer ≥ 0' });
  return undefined;
}

function positiveInt(value: unknown, path: string, problems: FieldProblem[]): number | undefined {
  const n = asNumber(value);
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 && n < 2 ** 32 - 1) return n;
  problems.push({ path, message: 'must be a whole number ≥ 1 (not root)' });
  return undefined;
}
