/**
 * The persistence contract of compute executions, defined once: the store implements it
 * (`store.executions`) and the compute manager depends on it, without either importing the other.
 *
 * Invariants every implementation keeps:
 * - `insertIfAbsent` is idempotent on `executionId`: concurrent inserts yield one row, one `pending`
 *   history entry; the loser gets the stored row with `created: false`.
 * - `transition` is a compare-and-set on `status`: the status change, its history row, its stream
 *   event and the `callback` outbox row are written in one transaction, or nothing is (undefined =
 *   CAS lost). A move outside EXECUTION_TRANSITIONS throws InvalidTransitionError. Settling
 *   (`succeeded`/`failed`) clears the lease.
 * - `claimOrphans` hands each pending/running execution whose lease expired (or that has had no
 *   lease for `leaseMs` since it was created/started) to exactly one owner.
 * - `renewLease` sets or extends the caller's lease while the execution is in flight; false when
 *   another owner holds it (even an expired lease: only `claimOrphans` takes leases over).
 * - `releaseLeases(owner, at)` (clean shutdown) ends every lease `owner` holds on an in-flight
 *   execution at `at` and clears the owner; a lease that ended at or before `now` counts as
 *   expired for `claimOrphans`, so another process takes those executions over at its next pass.
 */
import type { CallbackPayload } from './compute-callback.js';
import type { ComputeErrorShape, PartialOutcome } from './compute-error.js';
import type { ComputeExecution, ExecutionHistoryEntry } from './compute-execution.js';
import type { HeldJournal } from './held-journal.js';
import type { TenantStatusWrite } from './tenant-change.js';
import type { Endpoint, ExecutionStatus } from './tenant.js';

export interface ExecutionTransition {
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

export interface ExecutionListQuery {
  readonly tenantId?: string;
  readonly workflowRunId?: string;
  readonly status?: ExecutionStatus;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface ExecutionPage {
  readonly items: readonly ComputeExecution[];
  readonly nextCursor: string | null;
}

/** What `insertIfAbsent` did: the row as stored, whether this call created it, and its `show`. */
export interface InsertedExecution {
  readonly execution: ComputeExecution;
  readonly created: boolean;
  readonly shown?: 'written' | 'stale';
}

export interface ExecutionLedger {
  /**
   * Inserts the `pending` row and its first history entry, or returns the existing row
   * (created=false). With `running` (a move `pending` → `running`), a row this call creates makes
   * that move too, as `transition` would (history row, event, callback), and is returned moved:
   * in the insert's statement.
   * `journal`: a workflow step's held journal entries, which the insert carries or writes first
   * (held-journal.ts), whether or not it creates the row.
   * `show`: a change of the execution's tenant (showing the execution on it) that an
   * implementation may make in the same statement as a row this call creates moved to `running`,
   * as the compare-and-set on `show.before.version` that `TenantRepository.changeFrom` makes —
   * never otherwise, and never holding back the insert: `shown` says what became of it, `written`
   * or `stale` (the tenant was at another version: nothing of it was written); absent when it was
   * not attempted (the row existed, or the implementation does not fold it), and the caller then
   * makes the change itself.
   */
  insertIfAbsent(
    execution: ComputeExecution,
    running?: ExecutionTransition,
    journal?: HeldJournal,
    show?: TenantStatusWrite,
  ): Promise<InsertedExecution>;
  /** Compare-and-set status change; undefined when the current status is not in `from`. */
  transition(executionId: string, transition: ExecutionTransition): Promise<ComputeExecution | undefined>;
  get(executionId: string): Promise<ComputeExecution | undefined>;
  history(executionId: string): Promise<readonly ExecutionHistoryEntry[]>;
  list(query: ExecutionListQuery): Promise<ExecutionPage>;
  /**
   * Liveness of in-flight executions: the process running the provider call holds a lease and
   * renews it. `claimOrphans` takes over pending/running executions whose lease expired (the
   * process died, or released it at shutdown), setting the new owner, oldest first; with
   * `executionId`, only that one (a caller that met it and holds its plan). PostgreSQL uses
   * `FOR UPDATE SKIP LOCKED`.
   */
  claimOrphans(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    executionId?: string,
  ): Promise<readonly ComputeExecution[]>;
  /** Sets or extends the lease; false when another owner holds it. */
  renewLease(executionId: string, owner: string, until: number): Promise<boolean>;
  /**
   * Clean shutdown: every lease `owner` holds on a pending/running execution ends at `at` (owner
   * cleared), so the next `claimOrphans` anywhere takes those executions over at once instead of
   * after the lease would have expired. Returns how many were released.
   */
  releaseLeases(owner: string, at: number): Promise<number>;
}
