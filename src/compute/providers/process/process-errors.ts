/**
 * Maps native errors of the process provider to ComputeErrors by errno code and syscall, never by
 * message text. A spawn that cannot find the command (or the working directory) is the user's
 * config; permission problems need a human; resource exhaustion is temporary.
 */
import { ComputeError, type ComputeErrorCode } from '../../../domain/compute-error.js';
import { errorMessage } from '../../../domain/errors.js';

const BY_ERRNO: Readonly<Record<string, ComputeErrorCode>> = {
  EACCES: 'PERMISSION_DENIED',
  EPERM: 'PERMISSION_DENIED',
  EADDRINUSE: 'CONFLICT',
  EAGAIN: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
  EMFILE: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
  ENFILE: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
  ENOMEM: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
  EBUSY: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
  ENOSPC: 'QUOTA_EXCEEDED',
  EDQUOT: 'QUOTA_EXCEEDED',
  EROFS: 'PERMISSION_DENIED',
};

export function mapProcessError(error: unknown): ComputeError {
  if (error instanceof ComputeError) return error;
  const errno = error as NodeJS.ErrnoException | undefined;
  const code = typeof errno?.code === 'string' ? errno.code : undefined;
  const syscall = typeof errno?.syscall === 'string' ? errno.syscall : '';
  const providerError = {
    name: errno?.name,
    code,
    syscall,
    errno: errno?.errno,
    path: errno?.path,
    message: errorMessage(error),
  };
  const options = { providerError, cause: error };
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new ComputeError('PROVIDER_TIMEOUT', 'process provider call aborted', options);
  }
  if (code === 'ENOENT' && syscall.startsWith('spawn')) {
    return new ComputeError('INVALID_CONFIG', `command or working directory not found (${syscall})`, options);
  }
  if (code === 'ENOTDIR' && syscall.startsWith('spawn')) {
    return new ComputeError('INVALID_CONFIG', `working directory is not a directory (${syscall})`, options);
  }
  const mapped = code !== undefined ? BY_ERRNO[code] : undefined;
  if (mapped)
    return new ComputeError(
      mapped,
      `process provider: ${code ?? 'error'} in ${syscall || 'operation'}`,
      options,
    );
  return new ComputeError('INTERNAL', `process provider: ${errorMessage(error)}`, options);
}
