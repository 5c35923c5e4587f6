/**
 * The one place a thrown value becomes a `ComputeError` (CONTRIBUTING.md, "Code shape"). A ComputeError
 * passes through; anything else goes to the provider's `mapError` (which maps by errno / HTTP status / error
 * name). Either way the result carries no secret: known secret values are cut from the message and
 * `providerError` is the sanitised raw error (credential-named keys removed).
 */
import { ComputeError } from '../domain/compute-error.js';
import { errorMessage } from '../domain/errors.js';
import type { ComputeProvider } from './provider.js';
import { sanitizeRawError, scrubString } from './secrets.js';

export function normaliseError(
  error: unknown,
  provider: ComputeProvider,
  secrets: readonly string[],
): ComputeError {
  const mapped = error instanceof ComputeError ? error : safeMap(error, provider);
  const raw = mapped.providerError ?? (mapped === error ? undefined : error);
  return new ComputeError(mapped.code, scrubString(mapped.message, secrets), {
    classification: mapped.classification,
    ...(mapped.retryAfterMs !== undefined && { retryAfterMs: mapped.retryAfterMs }),
    ...(mapped.partial !== undefined && { partial: mapped.partial }),
    ...(raw !== undefined && { providerError: sanitizeRawError(raw, secrets) }),
    cause: error,
  });
}

/** A provider whose `mapError` throws or returns a foreign value still yields a ComputeError. */
function safeMap(error: unknown, provider: ComputeProvider): ComputeError {
  try {
    const mapped = provider.mapError(error);
    if (mapped instanceof ComputeError) return mapped;
  } catch (mapFailure) {
    return new ComputeError(
      'INTERNAL',
      `provider ${provider.type} failed to map an error: ${errorMessage(mapFailure)}`,
      {
        providerError: error,
      },
    );
  }
  return new ComputeError('INTERNAL', `provider ${provider.type}: ${errorMessage(error)}`, {
    providerError: error,
  });
}
