/**
 * The persistence port the compute manager needs: the subset of the store's
 * `ComputeExecutionRepository` it calls, with identical signatures in domain types. compute never
 * imports store (they are siblings); the composition root passes `store.executions`, which satisfies
 * this interface structurally. `testing/memory-ledger.ts` is the in-memory fake beside it.
 *
 * Invariants an implementation keeps (the store documents the same ones):
 * - `insertIfAbsent` is idempotent on `executionId`: concurrent inserts yield one row, one `pending`
 *   history entry; the loser gets the stored row with `created: false`.
 * - `transition` is a compare-and-set on `status`: the status change, its history row and the
 *   `callback` outbox row are written in one transaction, or nothing is (undefined = CAS lost).
 *   A move outside EXECUTION_TRANSITIONS throws InvalidTransitionError. Settling (`succeeded`/
 *   `failed`) clears the lease.
 * - `claimOrphans` hands each pending/running execution whose lease expired (or that has had no
 *   lease for `leaseMs` since it was created/started) to exactly one owner.
 * - `renewLease` sets or extends the caller's lease while the execution is in flight; false when
 *   another owner holds it (even an expired lease: only `claimOrphans` takes leases over).
 * - `releaseLeases(owner, at)` (clean shutdown) ends every lease `owner` holds on an in-flight
 *   execution at `at` and clears the owner; a lease that ended at or before `now` counts as
 *   expired for `claimOrphans`, so another process takes those executions over at its next pass.
 */
import type { CallbackPayload } from '../domain/compute-callback.js';
import type { ComputeErrorShape, PartialOutcome } from '../domain/compute-error.js';
import type { ComputeExecution, ExecutionHistoryEntry } from '../domain/compute-execution.js';
import type { Endpoint, ExecutionStatus } from '../domain/tenant.js';

export interface LedgerPage<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** Same shape as the store's `ExecutionTransition`. */
export interface LedgerTransition {
  /** Allowed current statuses (compare-and-set). */
  readonly from: readonly ExecutionStatus[];
  readonly to: ExecutionStatus;
  readonly attempt?: number;
  readonly resources?: Readonly<Record<string, string>>;
  readonly endpoints?: readonly Endpoint[];
  readonly partial?: PartialOutcome | null;
  readonly error?: ComputeErrorShape | null;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly at: string;
  /** Written to the outbox in the same transaction when given. */
  readonly callback?: CallbackPayload;
}

/** Same shape as the store's `ExecutionListQuery`. */
export interface LedgerListQuery {
  readonly tenantId?: string;
  readonly workflowRunId?: string;
  readonly status?: ExecutionStatus;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface ExecutionLedger {
  insertIfAbsent(execution: ComputeExecution): Promise<{ execution: ComputeExecution; created: boolean }>;
  transition(executionId: string, transition: LedgerTransition): Promise<ComputeExecution | undefined>;
  get(executionId: string): Promise<ComputeExecution | undefined>;
  history(executionId: string): Promise<readonly ExecutionHistoryEntry[]>;
  list(query: LedgerListQuery): Promise<LedgerPage<ComputeExecution>>;
  claimOrphans(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<readonly ComputeExecution[]>;
  renewLease(executionId: string, owner: string, until: number): Promise<boolean>;
  releaseLeases(owner: string, at: number): Promise<number>;
}
