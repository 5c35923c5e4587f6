/**
 * Turns anything a client command throws into an exit code and the lines printed on stderr: the
 * problem's title, detail, code and field errors for API errors; a hint with the server URL when
 * it cannot be reached; the message for usage errors. One place, so every command reports alike.
 */
import { ApiError } from '../api/client.js';
import { UsageError } from './args.js';
import { ExitCode, exitCodeForProblem } from './exit-codes.js';

export interface Failure {
  readonly exitCode: ExitCode;
  readonly lines: readonly string[];
}

/** A command's own decision to end with a code (a failed tenant, a timeout) and what to say. */
export class CommandFailure extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CommandFailure';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
]);

export function describeFailure(error: unknown, server: string | undefined): Failure {
  if (error instanceof ApiError) return apiFailure(error);
  if (error instanceof CommandFailure)
    return { exitCode: error.exitCode, lines: [`error: ${error.message}`, ...error.details] };
  if (error instanceof UsageError) return { exitCode: ExitCode.USAGE, lines: [`error: ${error.message}`] };
  const network = networkFailure(error, server);
  if (network) return network;
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: ExitCode.GENERIC, lines: [`error: ${message}`] };
}

function apiFailure(error: ApiError): Failure {
  const { problem } = error;
  const lines = [`error: ${problem.title}: ${problem.detail} (${problem.code}, HTTP ${error.status})`];
  for (const field of problem.errors ?? []) lines.push(`  ${field.path}: ${field.message}`);
  if (problem.requestId) lines.push(`  request id: ${problem.requestId}`);
  return { exitCode: exitCodeForProblem(problem.code, error.status), lines };
}

/** fetch rejects with `TypeError('fetch failed')` whose `cause` has the socket error's code. */
function networkFailure(error: unknown, server: string | undefined): Failure | undefined {
  const where = server ?? 'the server';
  if (isTimeout(error)) {
    return { exitCode: ExitCode.UNREACHABLE, lines: [`error: ${where} did not answer in time`] };
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (
    !(error instanceof TypeError) ||
    (code !== undefined && !NETWORK_CODES.has(code)) ||
    cause === undefined
  ) {
    return undefined;
  }
  const reason = code ?? (typeof cause.message === 'string' ? cause.message : 'network error');
  return {
    exitCode: ExitCode.UNREACHABLE,
    lines: [
      `error: cannot reach the Lessor server at ${where} (${reason})`,
      '  set --server, LESSOR_URL or server: in the CLI config',
    ],
  };
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError';
}
