/**
 * Declared retry policy (docs/architecture.md, "Workflows and the retry policy"). Resolution order: built-in
 * defaults < global config per operation < `spec.retryPolicy` of the tenant. `decide` turns an error into the
 * action to take; `backoffMs` gives exponential backoff with full jitter.
 */
import type { ComputeErrorCode, ComputeErrorShape } from './compute-error.js';
import type { ComputeOperation } from './operations.js';

export type ErrorAction = 'retry' | 'fail' | 'pause' | 'rollback';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly multiplier: number;
  /** Full jitter when true: the delay is uniform in [0, computed backoff]. */
  readonly jitter: boolean;
  /**
   * Timeout of one provider call. Unset (the default): the provider's own
   * `compute.providers.<type>.timeoutMs`, so a provider configured for slow calls keeps its time.
   */
  readonly timeoutMs?: number | undefined;
  readonly onError: Readonly<Partial<Record<ComputeErrorCode, ErrorAction>>>;
}

export type RetryPolicyOverride = Partial<Omit<RetryPolicy, 'onError'>> & {
  readonly onError?: Readonly<Partial<Record<ComputeErrorCode, ErrorAction>>>;
};

/** Per-operation overrides, as in the `retryPolicy` config block and `spec.retryPolicy`. */
export type RetryPolicyConfig = Readonly<Partial<Record<ComputeOperation, RetryPolicyOverride>>>;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  initialBackoffMs: 1000,
  maxBackoffMs: 300_000,
  multiplier: 2,
  jitter: true,
  onError: {},
};

export function resolveRetryPolicy(
  ...layers: readonly (RetryPolicyOverride | null | undefined)[]
): RetryPolicy {
  let policy: RetryPolicy = DEFAULT_RETRY_POLICY;
  for (const layer of layers) {
    if (!layer) continue;
    const { onError, ...rest } = layer;
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    policy = { ...policy, ...defined, onError: { ...policy.onError, ...onError } };
  }
  return policy;
}

/**
 * What to do after attempt `attempt` (1-based) failed with `error`. An explicit `onError` entry wins;
 * otherwise the error's classification decides: retriable → retry (until attempts run out),
 * non_retriable and manual_intervention → fail.
 */
export function decideOnError(policy: RetryPolicy, error: ComputeErrorShape, attempt: number): ErrorAction {
  const declared = policy.onError[error.code];
  const action: ErrorAction = declared ?? (error.classification === 'retriable' ? 'retry' : 'fail');
  if (action === 'retry' && attempt >= policy.maxAttempts) return 'fail';
  return action;
}

/** Delay before attempt `attempt + 1`; honours the engine's `retryAfterMs` as a lower bound. */
export function backoffMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exponential = policy.initialBackoffMs * policy.multiplier ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxBackoffMs, exponential);
  const delay = policy.jitter ? Math.floor(random() * capped) : capped;
  return Math.max(delay, retryAfterMs ?? 0);
}
