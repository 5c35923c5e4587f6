/**
 * Docker/Podman failures → `ComputeError`, by structured fields only: the HTTP status together with
 * the operation that got it, the socket errno, the error name. Message text is relayed, never read.
 *
 * Decisions:
 * - 404 means "no such image" on create and image inspect (IMAGE_UNAVAILABLE), "no such network" on
 *   network inspect (INVALID_CONFIG), otherwise NOT_FOUND.
 * - 500/502/503/504 → PROVIDER_TEMPORARILY_UNAVAILABLE (retriable). The engine answers 500 for
 *   transient trouble (storage locks, netavark/iptables races) and, on Podman, also for a name
 *   conflict on create; retrying after re-observing is what resolves those. A 500 that is really
 *   permanent (e.g. a command missing from the image) fails once the retry policy runs out.
 * - An aborted call → PROVIDER_TIMEOUT.
 */
import { ComputeError, type ComputeErrorCode } from '../../../domain/compute-error.js';
import { errorMessage } from '../../../domain/errors.js';
import { DockerApiError, type DockerOperation } from './docker-client.js';

const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);
const DENIED_ERRNO = new Set(['EACCES', 'EPERM']);

export function mapDockerError(error: unknown): ComputeError {
  if (error instanceof ComputeError) return error;
  if (error instanceof DockerApiError) return fromApiError(error);
  if (isAbortError(error)) {
    return new ComputeError('PROVIDER_TIMEOUT', 'docker call aborted before it finished', {
      cause: error,
      providerError: { name: (error as Error).name },
    });
  }
  const errno = errnoOf(error);
  if (errno !== undefined) return fromErrno(errno, error);
  return new ComputeError('INTERNAL', `docker provider: ${errorMessage(error)}`, { cause: error });
}

export function isAbortError(error: unknown): boolean {
  const name = error instanceof Error || error instanceof DOMException ? error.name : undefined;
  return name === 'AbortError' || name === 'TimeoutError';
}

export function statusCode(status: number, operation: DockerOperation): ComputeErrorCode {
  if (status === 404) return notFoundCode(operation);
  if (status === 400) return 'INVALID_CONFIG';
  if (status === 401 || status === 403) return 'PERMISSION_DENIED';
  if (status === 409) return 'CONFLICT';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 500 || status === 502 || status === 503 || status === 504)
    return 'PROVIDER_TEMPORARILY_UNAVAILABLE';
  return status >= 400 && status < 500 ? 'INVALID_CONFIG' : 'INTERNAL';
}

function notFoundCode(operation: DockerOperation): ComputeErrorCode {
  if (operation === 'createContainer' || operation === 'inspectImage') return 'IMAGE_UNAVAILABLE';
  if (operation === 'inspectNetwork') return 'INVALID_CONFIG';
  return 'NOT_FOUND';
}

function fromApiError(error: DockerApiError): ComputeError {
  const code = statusCode(error.status, error.operation);
  const engineMessage = engineMessageOf(error.body);
  const message = `docker ${error.operation} failed (HTTP ${error.status})${engineMessage ? `: ${engineMessage}` : ''}`;
  return new ComputeError(code, message, { cause: error, providerError: error.toDetails() });
}

function fromErrno(errno: string, error: unknown): ComputeError {
  const code: ComputeErrorCode = DENIED_ERRNO.has(errno)
    ? 'PERMISSION_DENIED'
    : UNAVAILABLE_ERRNO.has(errno)
      ? 'PROVIDER_TEMPORARILY_UNAVAILABLE'
      : 'INTERNAL';
  const { syscall, address, port } = error as { syscall?: string; address?: string; port?: number };
  return new ComputeError(code, `docker engine unreachable (${errno}): ${errorMessage(error)}`, {
    cause: error,
    providerError: { errno, syscall, address, port },
  });
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z_]+$/.test(code) ? code : undefined;
}

function engineMessageOf(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 300) || undefined;
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message.slice(0, 300) : undefined;
}

/** The one normalisation every public call ends with: an aborted signal always reads as a timeout. */
export function toComputeError(error: unknown, signal: AbortSignal): ComputeError {
  if (signal.aborted && !(error instanceof ComputeError && error.code === 'PROVIDER_TIMEOUT')) {
    const base = error instanceof ComputeError ? error : undefined;
    return new ComputeError(
      'PROVIDER_TIMEOUT',
      'docker operation aborted: the call timed out or was cancelled',
      {
        cause: error,
        ...(base?.partial && { partial: base.partial }),
        ...(base?.providerError !== undefined && { providerError: base.providerError }),
      },
    );
  }
  return mapDockerError(error);
}
