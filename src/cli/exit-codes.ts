/**
 * The exit codes of the `lessor` client commands: a contract scripts rely on, so a code never
 * changes meaning (docs/cli.md repeats this table). Server commands (`serve`, `migrate`) use 0 and 1.
 *
 * | code | meaning                                                                  |
 * |------|--------------------------------------------------------------------------|
 * | 0    | success                                                                  |
 * | 1    | generic or internal error (server 5xx, unexpected failure, rate limited) |
 * | 2    | usage error: unknown command, bad flag, unreadable input file            |
 * | 3    | not found (tenant, plan, revision, execution, run, provider, callback)   |
 * | 4    | conflict, stale version (precondition failed) or invalid phase transition|
 * | 5    | validation failed (the server rejected the request body or query)        |
 * | 6    | unauthorized, forbidden or refused by policy (token, role, plan policy)  |
 * | 7    | with --wait/--watch: the tenant ended failed                             |
 * | 8    | with --wait/--watch: timed out before the tenant settled                 |
 * | 9    | the server could not be reached (connection refused, DNS, network)      |
 * | 10   | `rollouts watch`: the rollout halted                                      |
 * | 11   | `rollouts watch`: the rollout was rolled back                             |
 * | 12   | `rollouts watch`: the rollout was aborted                                 |
 */
import type { ProblemCode } from '../api/types.js';

export const ExitCode = {
  OK: 0,
  GENERIC: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  VALIDATION: 5,
  UNAUTHORIZED: 6,
  TENANT_FAILED: 7,
  TIMEOUT: 8,
  UNREACHABLE: 9,
  ROLLOUT_HALTED: 10,
  ROLLOUT_ROLLED_BACK: 11,
  ROLLOUT_ABORTED: 12,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One row per code, for `--help` and the docs. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCode, string>> = {
  0: 'success',
  1: 'generic or internal error (server error, rate limited, unexpected failure)',
  2: 'usage error (unknown command, bad flag or argument, unreadable input file)',
  3: 'not found',
  4: 'conflict, stale version or invalid phase transition',
  5: 'validation failed',
  6: 'unauthorized or forbidden',
  7: 'the tenant ended failed (--wait, --watch)',
  8: 'timed out waiting for the tenant to settle (--wait, --watch)',
  9: 'server unreachable',
  10: 'the watched rollout halted (rollouts watch)',
  11: 'the watched rollout was rolled back (rollouts watch)',
  12: 'the watched rollout was aborted (rollouts watch)',
};

const BY_PROBLEM: Readonly<Record<ProblemCode, ExitCode>> = {
  VALIDATION_FAILED: ExitCode.VALIDATION,
  NOT_FOUND: ExitCode.NOT_FOUND,
  CONFLICT: ExitCode.CONFLICT,
  PRECONDITION_FAILED: ExitCode.CONFLICT,
  INVALID_TRANSITION: ExitCode.CONFLICT,
  UNAUTHORIZED: ExitCode.UNAUTHORIZED,
  FORBIDDEN: ExitCode.UNAUTHORIZED,
  // Refused by policy: the request is valid but this caller may not make it.
  POLICY_VIOLATION: ExitCode.UNAUTHORIZED,
  MISDIRECTED_REQUEST: ExitCode.UNAUTHORIZED,
  PAYLOAD_TOO_LARGE: ExitCode.VALIDATION,
  UNSUPPORTED_MEDIA_TYPE: ExitCode.VALIDATION,
  NOT_SUPPORTED: ExitCode.VALIDATION,
  RATE_LIMITED: ExitCode.GENERIC,
  UNAVAILABLE: ExitCode.GENERIC,
  STORE_UNAVAILABLE: ExitCode.GENERIC,
  INTERNAL: ExitCode.GENERIC,
};

/** The exit code for a problem+json answer; falls back on the HTTP status for unknown codes. */
export function exitCodeForProblem(code: string | undefined, status: number): ExitCode {
  if (code !== undefined && Object.hasOwn(BY_PROBLEM, code)) return BY_PROBLEM[code as ProblemCode];
  return exitCodeForStatus(status);
}

function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return ExitCode.UNAUTHORIZED;
  if (status === 404) return ExitCode.NOT_FOUND;
  if (status === 409 || status === 412) return ExitCode.CONFLICT;
  if (status === 400 || status === 413 || status === 415 || status === 422) return ExitCode.VALIDATION;
  return ExitCode.GENERIC;
}
