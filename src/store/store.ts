/**
 * Persistence ports. One implementation (Kysely) serves SQLite and PostgreSQL; every dialect
 * difference lives in `dialect.ts`. Repositories return domain records, never rows.
 *
 * Invariants every implementation keeps:
 * - `tenants.change` persists the output of `applyTenantChange` — tenant row, label rows and event
 *   rows — in one transaction, with an optimistic check on `version`.
 * - `executions.transition` is a compare-and-set on status; the history row, the stream event and the
 *   callback outbox row are written in the same transaction as the status change, or not at all.
 * - `runs.createOrGet` is idempotent on `runId`: concurrent starters get the same run.
 * - With secrets at rest configured, the database never holds a secret value in plaintext: tenant
 *   specs are sealed per value (sealed-specs.ts) and archived tenants keep none; every repository
 *   still returns plaintext.
 */
import type { AuditRecord } from '../domain/audit-record.js';
import type { CallbackPayload, CallbackRecord, CallbackState } from '../domain/compute-callback.js';
import type { ComputeExecution, ExecutionHistoryEntry } from '../domain/compute-execution.js';
import type { AppliedChange, TenantChange } from '../domain/tenant-change.js';
import type { TenantEvent } from '../domain/tenant-event.js';
import type { ExecutionStatus, Phase, RunState, Tenant, TenantSpec } from '../domain/tenant.js';
import type { RunTags, StepKind, WorkflowRun, WorkflowStep } from '../domain/workflow-run.js';
import type { ComputeErrorShape, PartialOutcome } from '../domain/compute-error.js';
import type { Endpoint } from '../domain/tenant.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

export interface LabelRequirement {
  readonly key: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

export interface TenantListQuery {
  readonly limit: number;
  readonly cursor?: string | undefined;
  readonly phase?: Phase | undefined;
  readonly provider?: string | undefined;
  readonly labels?: readonly LabelRequirement[] | undefined;
  readonly namePrefix?: string | undefined;
  /** Archived tenants are hidden unless asked for (or filtered by phase=archived). */
  readonly includeArchived?: boolean | undefined;
}

export interface NewTenant {
  readonly name: string;
  readonly spec: TenantSpec;
  readonly actor: string;
}

/** What the controller needs per tenant on a resync pass: small, index-only where possible. */
export interface TenantSummary {
  readonly id: string;
  /** `spec.provider` as stored. */
  readonly provider: string;
  readonly phase: Phase;
  readonly generation: number;
  readonly observedGeneration: number;
  readonly paused: boolean;
}

/** A ready, unpaused tenant as a drift pass needs it: which engine to ask about which runtime. */
export interface ReadyTenantRef {
  readonly id: string;
  /** `spec.provider` as stored. */
  readonly provider: string;
}

/**
 * Which tenants a summary pass reads; archived ones never. `unsettled`: those a resync may have to
 * act on — a working phase, or a spec newer than the one observed — filtered in SQL, so a pass over
 * a settled fleet reads next to nothing.
 */
export type SummaryScope = 'all' | 'unsettled';

export interface TenantRepository {
  /** Throws ConflictError when a non-archived tenant already has the name. Writes a `Created` event. */
  create(input: NewTenant): Promise<Tenant>;
  /** By id, or by name among non-archived tenants. */
  get(idOrName: string): Promise<Tenant | undefined>;
  list(query: TenantListQuery): Promise<Page<Tenant>>;
  /**
   * Loads the tenant, applies `change` through `applyTenantChange` and persists the result with its
   * events in one transaction. Throws NotFoundError, PreconditionFailedError (stale
   * `expectedVersion`, or a concurrent writer won the race), InvalidTransitionError.
   */
  change(
    idOrName: string,
    change: TenantChange,
    options?: { expectedVersion?: number },
  ): Promise<AppliedChange>;
  /**
   * Removes an archived tenant's record and everything that hangs off it (its runs too: the runs
   * whose subject is the tenant), and writes the
   * `tenant.purge` audit record (by `actor`) in the same transaction; returns that record. Throws
   * NotFoundError, InvalidTransitionError (not archived).
   */
  purge(id: string, audit: { readonly actor: string }): Promise<AuditRecord>;
  /** Archived tenants named `name` (names are unique among live tenants only), newest first. */
  listArchivedByName(name: string, limit: number): Promise<readonly Tenant[]>;
  /** Keyset pages (by id) over the tenants of `scope` (default `all`), for controller passes. */
  listSummaries(
    afterId: string | null,
    limit: number,
    scope?: SummaryScope,
  ): Promise<readonly TenantSummary[]>;
  /**
   * Keyset pages (by id) over the ready, unpaused tenants, for drift passes: read from a covering
   * index alone, since a pass visits every running tenant once a minute.
   */
  listReady(afterId: string | null, limit: number): Promise<readonly ReadyTenantRef[]>;
  count(): Promise<number>;
}

/** The audit trail: read-only here; records are written by the acts they describe (a purge). */
export interface AuditRepository {
  /** Newest first, keyset-paginated. */
  list(query: { limit: number; cursor?: string | undefined }): Promise<Page<AuditRecord>>;
}

export interface TenantEventRepository {
  listByTenant(
    tenantId: string,
    options: { afterSeq?: number; limit: number },
  ): Promise<readonly TenantEvent[]>;
  /** Global stream order, for SSE (`Last-Event-ID` = seq); settled events only (see dialect.ts). */
  listSince(afterSeq: number, limit: number): Promise<readonly TenantEvent[]>;
  /** The highest seq, settled: no event at or below it commits later, so a stream may start there. */
  latestSeq(): Promise<number>;
}

export interface NewWorkflowRun {
  readonly runId: string;
  readonly workflow: string;
  readonly tags: RunTags;
  readonly engine: WorkflowRun['engine'];
  readonly input: unknown;
}

export type WorkflowRunPatch = Partial<
  Pick<
    WorkflowRun,
    'state' | 'attempt' | 'output' | 'error' | 'wakeAt' | 'leaseOwner' | 'leaseExpiresAt' | 'finishedAt'
  >
>;

export interface WorkflowRunRepository {
  createOrGet(run: NewWorkflowRun): Promise<{ run: WorkflowRun; created: boolean }>;
  get(runId: string): Promise<WorkflowRun | undefined>;
  /** The runs whose `subject` tag is `subject`, newest first. */
  listBySubject(subject: string, limit: number): Promise<readonly WorkflowRun[]>;
  /**
   * Updates a run. With `leaseOwner` given, only when that owner still holds the lease; with
   * `expectedStates`, only when the run is in one of them. Returns undefined when the guard failed.
   */
  update(
    runId: string,
    patch: WorkflowRunPatch,
    guard?: { leaseOwner?: string; expectedStates?: readonly RunState[] },
  ): Promise<WorkflowRun | undefined>;
  /**
   * Leases up to `limit` active runs, setting `leaseOwner`/`leaseExpiresAt`: unleased runs that are
   * due (`wakeAt <= now`), and runs whose lease expired whatever their `wakeAt` (the holder died
   * while waiting in memory). PostgreSQL: `FOR UPDATE SKIP LOCKED`, so replicas never claim the
   * same run.
   */
  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<readonly WorkflowRun[]>;
  /** Extends the lease; false when the owner lost it. */
  renewLease(runId: string, owner: string, until: number): Promise<boolean>;
  /** Earliest `wakeAt` among active, unleased runs (for the engine's timer). */
  nextWakeAt(): Promise<number | null>;
}

export interface WorkflowStepRepository {
  list(runId: string): Promise<readonly WorkflowStep[]>;
  /**
   * Journals a finished step in one write (the fast path: a step that crashes before it is recorded
   * simply runs again). A second record for the same (runId, seq) is a no-op returning the stored one.
   */
  record(step: WorkflowStep): Promise<WorkflowStep>;
  /** Inserts the journal entry; a second insert for the same (runId, seq) is a no-op returning the stored one. */
  start(step: {
    runId: string;
    seq: number;
    name: string;
    kind: StepKind;
    startedAt: string;
  }): Promise<WorkflowStep>;
  finish(
    runId: string,
    seq: number,
    outcome: {
      status: 'completed' | 'failed';
      result?: unknown;
      error?: unknown;
      finishedAt: string;
      durationMs: number;
    },
  ): Promise<void>;
  /** Durable promises: first resolution wins; later ones return false and change nothing. */
  resolvePromise(runId: string, key: string, value: unknown, at: string): Promise<boolean>;
  getPromise(runId: string, key: string): Promise<{ value: unknown; resolvedAt: string } | undefined>;
}

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

export interface ComputeExecutionRepository {
  /** Inserts the `pending` row and its first history entry, or returns the existing row (created=false). */
  insertIfAbsent(execution: ComputeExecution): Promise<{ execution: ComputeExecution; created: boolean }>;
  /** Compare-and-set status change; undefined when the current status is not in `from`. */
  transition(executionId: string, transition: ExecutionTransition): Promise<ComputeExecution | undefined>;
  get(executionId: string): Promise<ComputeExecution | undefined>;
  history(executionId: string): Promise<readonly ExecutionHistoryEntry[]>;
  list(query: ExecutionListQuery): Promise<Page<ComputeExecution>>;
  /**
   * Liveness of in-flight executions: the process running the provider call holds a lease and
   * renews it. `claimOrphans` takes over pending/running executions whose lease expired (the
   * process died, or released it at shutdown), setting the new owner; PostgreSQL uses
   * `FOR UPDATE SKIP LOCKED`.
   */
  claimOrphans(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
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

export interface CallbackRepository {
  /** Pending callbacks whose `nextAttemptAt <= now`, oldest first. */
  listDue(now: number, limit: number): Promise<readonly CallbackRecord[]>;
  markDelivered(id: string, at: string): Promise<void>;
  /** Records a failed attempt; `dead` parks it as a dead letter. */
  markAttemptFailed(
    id: string,
    update: { attempts: number; nextAttemptAt: number; lastError: string; dead: boolean },
  ): Promise<void>;
  get(id: string): Promise<CallbackRecord | undefined>;
  list(query: {
    state?: CallbackState;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<CallbackRecord>>;
  /** Dead → pending with attempts reset; false when not dead. */
  redrive(id: string, now: number): Promise<boolean>;
  nextDueAt(): Promise<number | null>;
}

export interface IdempotencyRecord {
  readonly key: string;
  readonly scope: string;
  readonly requestHash: string;
  readonly state: 'in_flight' | 'completed';
  readonly statusCode: number | null;
  readonly responseBody: unknown;
  readonly responseHeaders: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly expiresAt: number;
}

export interface IdempotencyKeyRepository {
  /**
   * Claims the key (state in_flight, until `expiresAt`) or returns the existing unexpired record
   * (claimed=false). An expired record — a completed one past its TTL, or the claim of a process
   * that died before completing — is taken over.
   */
  claim(record: {
    key: string;
    scope: string;
    requestHash: string;
    now: number;
    expiresAt: number;
  }): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRecord }>;
  /** Stores the response to replay, kept until `expiresAt`. */
  complete(
    key: string,
    scope: string,
    response: { statusCode: number; body: unknown; headers: Record<string, string> },
    expiresAt: number,
  ): Promise<void>;
  /** Drops an in-flight claim whose request failed, so the client may retry. */
  release(key: string, scope: string): Promise<void>;
  deleteExpired(now: number): Promise<number>;
}

/** What a retention sweep deletes, one kind at a time (see `RetentionRepository`). */
export type RetentionKind = 'events' | 'runs' | 'executions' | 'callbacks';

/** A position in a kind's sweep order: the settling time and id of a row (an event's id is its seq). */
export interface RetentionCursor {
  readonly at: string;
  readonly id: string;
}

export interface RetentionBatch {
  /** RFC 3339; only rows settled before it are looked at. */
  readonly olderThan: string;
  /** Resume after this row (exclusive); null starts with the oldest. */
  readonly after: RetentionCursor | null;
  readonly limit: number;
}

export interface RetentionBatchResult {
  /** Rows settled before `olderThan` that the batch looked at, in sweep order: at most `limit`. */
  readonly examined: number;
  /** Of those, how many were deleted (with their steps, promises or history). */
  readonly deleted: number;
  /** The last row examined (the next batch's `after`); null when none was. */
  readonly last: RetentionCursor | null;
}

/**
 * Deletes settled records past their retention window, in bounded batches. Each kind is read in
 * the order of the time that settled its rows (index range, oldest first): events by `at`, runs
 * and executions by `finishedAt`, callbacks by `deliveredAt`. A row is deleted only when it is
 * settled and defines no current state, checked in the delete itself:
 * - events: any, except the newest of all (the stream's `latestSeq` never goes back);
 * - runs (with steps and promises): succeeded, failed or cancelled, not the newest run of its
 *   subject and workflow (a tenant's newest run of each action), not the run a tenant's
 *   `status.workflow` names;
 * - executions (with history): succeeded or failed, their run not active, not the execution
 *   `status.compute` names;
 * - callbacks: delivered ones whose run is not active (pending and dead ones are kept).
 * Idempotent and safe from several replicas at once (a row deleted twice is simply gone).
 */
export interface RetentionRepository {
  sweep(kind: RetentionKind, batch: RetentionBatch): Promise<RetentionBatchResult>;
}

export interface ServerSecretRepository {
  /**
   * The deployment secret `name` (e.g. the config-hash key): the stored one, or — for the first
   * caller — `make()`'s value, stored. Concurrent first callers all get the value that was stored.
   * Sealed at rest; throws SecretsError when the stored value does not open with this server's keys.
   */
  getOrCreate(name: string, make: () => string): Promise<string>;
}

export interface ResealReport {
  /** Tenant rows examined. */
  readonly tenants: number;
  /** Tenant rows rewritten under the current key (or, archived, with their secrets erased). */
  readonly resealed: number;
  /** Server secrets rewritten under the current key. */
  readonly serverSecrets: number;
  /** Tenant rows still stale after the pass (written meanwhile by a server with an older key). */
  readonly remaining: number;
}

export interface ActiveRunCount {
  readonly engine: string;
  readonly workflow: string;
  readonly count: number;
}

export interface CallbackOutboxStats {
  readonly pending: number;
  readonly dead: number;
  /** `createdAt` of the oldest pending callback; null when none is pending. */
  readonly oldestPendingAt: string | null;
}

export interface ConnectionPoolStats {
  /** Connections open (idle or in use). */
  readonly total: number;
  readonly idle: number;
  /** Queries waiting for a connection. */
  readonly waiting: number;
  readonly max: number;
}

/** Fleet-wide counts for gauges: one aggregate query each; callers cache and refresh them. */
export interface StoreStatsRepository {
  tenantsByPhase(): Promise<Readonly<Record<string, number>>>;
  /** Runs in an active state, by engine and definition. */
  activeRuns(): Promise<readonly ActiveRunCount[]>;
  callbackOutbox(): Promise<CallbackOutboxStats>;
  /** The connection pool right now (PostgreSQL); null when the database has none (SQLite). */
  connectionPool(): ConnectionPoolStats | null;
}

export interface Store {
  readonly dialect: DialectName;
  readonly stats: StoreStatsRepository;
  readonly tenants: TenantRepository;
  readonly events: TenantEventRepository;
  readonly runs: WorkflowRunRepository;
  readonly steps: WorkflowStepRepository;
  readonly executions: ComputeExecutionRepository;
  readonly callbacks: CallbackRepository;
  readonly idempotency: IdempotencyKeyRepository;
  readonly audit: AuditRepository;
  readonly retention: RetentionRepository;
  readonly serverSecrets: ServerSecretRepository;
  /**
   * Re-seals every stored secret not sealed under the current key, and erases the secrets of
   * archived tenants, in batches (one transaction each, rows compare-and-set): safe beside running
   * servers, idempotent if interrupted. Throws without secrets at rest configured.
   */
  resealSecrets(options?: { batchSize?: number }): Promise<ResealReport>;
  /** Appends a non-phase event to a tenant's stream (run state changes, audit). */
  appendEvent(tenantId: string, event: Omit<TenantEvent, 'seq' | 'tenantId' | 'at'>): Promise<void>;
  /** A real round trip to the database (a read). Throws StoreUnavailableError when it is down. */
  ping(): Promise<void>;
  /**
   * Readiness of writes: rewrites the one row of `health_probe` and waits for the commit. Throws
   * StoreUnavailableError when the database cannot take a write (down, out of disk, read-only,
   * I/O errors) — which a read would not notice — and also, after such failures, until writes have
   * succeeded for a quiet period (store-incidents.ts), so readiness does not flap on a nearly full disk.
   */
  probeWrite(): Promise<void>;
  migrate(): Promise<void>;
  /** Applied and pending migration names; reads only (`lessor doctor`). */
  migrationStatus(): Promise<{ readonly applied: readonly string[]; readonly pending: readonly string[] }>;
  close(): Promise<void>;
}
