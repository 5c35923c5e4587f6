/**
 * How a run ends, shared by every engine: the definition's promise settled → the run's outcome
 * (`succeeded` with the JSON output; `cancelled` on `RunCancelledError`; `failed` on any other error,
 * or on an output JSON cannot hold), and the run-row patches that record an end.
 */
import type { WorkflowRunPatch } from '../store/store.js';
import { RunCancelledError } from './context.js';
import { cancellationError, serializeError, toJournalValue, type SerializedError } from './step-error.js';

export type RunOutcome =
  | { readonly state: 'succeeded'; readonly output: unknown }
  | { readonly state: 'failed' | 'cancelled'; readonly error: SerializedError };

export type Settled =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Runs `fn` to its end; never rejects. */
export async function settle(fn: () => Promise<unknown>): Promise<Settled> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The outcome of a settled definition; `fatal` (an engine-detected failure) overrides it. */
export function outcomeOf(settled: Settled, fatal: Error | null = null): RunOutcome {
  if (fatal) return { state: 'failed', error: serializeError(fatal) };
  if (!settled.ok) {
    const error = serializeError(settled.error);
    return settled.error instanceof RunCancelledError
      ? { state: 'cancelled', error }
      : { state: 'failed', error };
  }
  try {
    return { state: 'succeeded', output: toJournalValue(settled.value) };
  } catch (error) {
    return { state: 'failed', error: serializeError(error) };
  }
}

/** The row of an ended run: its outcome, when, and nothing left to wake or lease. */
export function endPatch(outcome: RunOutcome, nowMs: number): WorkflowRunPatch {
  return {
    state: outcome.state,
    ...(outcome.state === 'succeeded' ? { output: outcome.output } : { error: outcome.error }),
    finishedAt: new Date(nowMs).toISOString(),
    wakeAt: null,
    leaseOwner: null,
    leaseExpiresAt: null,
  };
}

/** The row of a run cancelled from outside (`WorkflowEngine.cancel`). */
export function cancelPatch(reason: string, nowMs: number): WorkflowRunPatch {
  return endPatch({ state: 'cancelled', error: cancellationError(reason) }, nowMs);
}
