/**
 * The one way the manager calls a provider: validate the effective config (a config that fails is
 * never handed to the provider: INVALID_CONFIG with the problems), run the call under its deadline
 * and stop signal (call-with-timeout.ts), and turn whatever it throws into a secret-free
 * ComputeError (error-normaliser.ts). A call given up by its stop signal rejects with
 * CallAbandonedError instead: nothing failed, so there is nothing to normalise.
 */
import { ComputeError } from '../domain/compute-error.js';
import type { FieldProblem } from '../domain/errors.js';
import type { JsonObject } from '../domain/tenant.js';
import { CallAbandonedError, callWithTimeout } from './call-with-timeout.js';
import { normaliseError } from './error-normaliser.js';
import type { ComputeProvider } from './provider.js';
import type { ProviderRegistry } from './provider-registry.js';

/** A merged config that does not validate; `problems` say where (recorded in the execution history). */
export class InvalidConfigError extends ComputeError {
  constructor(
    provider: string,
    readonly problems: readonly FieldProblem[],
  ) {
    super('INVALID_CONFIG', `spec.config is not valid for compute provider '${provider}'`);
  }
}

export interface ProviderCall<T> {
  /** Provider type (resolved). */
  readonly type: string;
  /** Effective config: validated first when given; its secret values are cut from any error. */
  readonly config?: JsonObject;
  /** Deadline; default the provider's `timeoutMs` setting. */
  readonly timeoutMs?: number;
  /** Describes the call in a timeout message (`docker describe of tenant acme`). */
  readonly what: string;
  readonly stop?: AbortSignal;
  readonly run: (provider: ComputeProvider, signal: AbortSignal) => Promise<T>;
}

/** Throws InvalidConfigError, a normalised ComputeError, or CallAbandonedError (stopped). */
export async function callProvider<T>(registry: ProviderRegistry, call: ProviderCall<T>): Promise<T> {
  const { provider, settings } = registry.get(call.type);
  const problems = call.config ? registry.problems(call.type, call.config) : [];
  if (problems.length > 0) throw new InvalidConfigError(call.type, problems);
  try {
    return await callWithTimeout((signal) => call.run(provider, signal), {
      timeoutMs: call.timeoutMs ?? settings.timeoutMs,
      what: call.what,
      ...(call.stop && { stop: call.stop }),
    });
  } catch (error) {
    if (error instanceof CallAbandonedError) throw error;
    const secrets = call.config ? registry.secretValues(call.type, call.config) : [];
    throw normaliseError(error, provider, secrets);
  }
}
