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
import type { TraceContext } from '../domain/tracing.js';
import type { HeldJournal } from '../domain/held-journal.js';
import type { AuditRecord } from '../domain/audit-record.js';
import type { CallbackRecord, CallbackState } from '../domain/compute-callback.js';
import type { ExecutionLedger } from '../domain/execution-ledger.js';
import type { AppliedChange, TenantChange } from '../domain/tenant-change.js';
import type { TenantEvent, TenantEventDraft } from '../domain/tenant-event.js';
import type { Phase, RunState, Tenant, TenantSpec, TenantStatus } from '../domain/tenant.js';
import type { RunTags, WorkflowRun, WorkflowStep } from '../domain/workflow-run.js';
import type { ChangeSubscriptions } from './change-signal.js';
import type { WebhookRepository } from './webhook-store.js';
import type { TenantRevision } from '../domain/tenant-revision.js';
import type { Plan, PlanContent, PlanRevision } from '../domain/plan.js';
import type { RolloutWebhookEventType } from '../domain/webhook.js';
import type {
  MemberState,
  Rollout,
  RolloutChange,
  RolloutControl,
  RolloutMember,
  RolloutPhase,
  RolloutSelector,
  RolloutStrategy,
  FailurePolicy,
} from '../domain/rollout.js';

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
  /** `status.effectiveConfigHash` of the new tenant. */
  readonly effectiveConfigHash?: string | undefined;
  /** The writer's trace context: the webhook events the create queues continue it. */
  readonly trace?: TraceContext | undefined;
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

/** A tenant document a reader already holds: which tenant, at which version. */
export interface HeldVersion {
  readonly id: string;
  readonly version: number;
}

/**
 * What `TenantRepository.getForView` found: the tenant, its secret values masked; or, when the
 * row is still the held version, only that (the held document is current).
 */
export type TenantViewRead =
  | { readonly unchanged: false; readonly tenant: Tenant }
  | { readonly unchanged: true; readonly held: HeldVersion };

/**
 * A tenant row as `TenantRepository.getForView` found it, for a reader that writes it out: the
 * scalar fields, the stored texts, and the masked tenant on demand.
 */
export interface TenantViewDocument {
  readonly id: string;
  readonly name: string;
  readonly generation: number;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /**
   * The spec's stored JSON text, given only when masking provably replaces no value in it
   * (`SpecCodec.unmaskedText`): then it is the masked spec's text. Undefined when it may hold a
   * secret value — read `tenant()`.
   */
  readonly specText: string | undefined;
  /** The status's stored JSON text. */
  readonly statusText: string;
  /** The tenant, secret values masked (parsed from the row's texts on each call). */
  tenant(): Tenant;
}

/** What `TenantRepository.getForView` found: `TenantViewRead`, the tenant as its row's texts. */
export type TenantDocumentRead =
  | { readonly unchanged: false; readonly document: TenantViewDocument }
  | { readonly unchanged: true; readonly held: HeldVersion };

/** A tenant and its newest workflow runs, as `TenantRepository.getWithRuns` reads them. */
export interface TenantWithRuns {
  readonly tenant: Tenant;
  /** Newest first, as `WorkflowRunRepository.listBySubject` orders them. */
  readonly runs: readonly WorkflowRun[];
}

export interface TenantRepository {
  /** Throws ConflictError when a non-archived tenant already has the name. Writes a `Created` event. */
  create(input: NewTenant): Promise<Tenant>;
  /** By id, or by name among non-archived tenants. */
  get(idOrName: string): Promise<Tenant | undefined>;
  /**
   * The tenant by id (never by name) and its newest `runLimit` workflow runs, newest first — what
   * `get` and `WorkflowRunRepository.listBySubject(tenantSubject(id))` answer, in one statement
   * where a statement is a round trip (tenant-with-runs.ts). Undefined when there is no such tenant.
   */
  getWithRuns(id: string, runLimit: number): Promise<TenantWithRuns | undefined>;
  /**
   * `get` for a reader that shows the tenant: secret values come back `***` (never opened). With
   * `held`, the database compares it with the row in the same statement, and a row still at that
   * version is answered `unchanged` without its documents — so a cache of rendered documents keyed
   * by version stays exact with any number of writers on the database. A tenant read comes back as
   * its row's texts (`TenantViewDocument`), its spec's text only when no secret is in it.
   */
  getForView(idOrName: string, held?: HeldVersion): Promise<TenantDocumentRead | undefined>;
  list(query: TenantListQuery): Promise<Page<Tenant>>;
  /**
   * `list` for a reader that shows the tenants: secret values `***` (never opened), and an item
   * whose row is at the version `heldVersion` returns for its id comes back `unchanged`.
   */
  listForView(
    query: TenantListQuery,
    heldVersion?: (id: string) => number | undefined,
  ): Promise<Page<TenantViewRead>>;
  /**
   * Loads the tenant, applies `change` through `applyTenantChange` and persists the result with its
   * events in one transaction. Throws NotFoundError, PreconditionFailedError (stale
   * `expectedVersion`, or a concurrent writer won the race), InvalidTransitionError.
   */
  change(
    idOrName: string,
    change: TenantChange,
    /** `trace`: the writer's trace context, which the webhook events the change queues continue. */
    options?: { expectedVersion?: number; trace?: TraceContext },
  ): Promise<AppliedChange>;
  /**
   * `change` applied to `current` — the tenant as the caller last read or wrote it, at
   * `current.version` — and persisted only if the row is still at that version; else
   * PreconditionFailedError, and the caller reads again and decides again. A change that leaves the
   * spec alone and does not archive (a workflow's status changes) is written without reading the
   * row: its status columns, its events and their webhook outbox rows, in one transaction. Other
   * changes take the `change` path with `expectedVersion`. `current.spec` may be the effective
   * spec (a plan tenant's, docs/architecture.md): it is never written by this path. Throws
   * InvalidTransitionError when `change` is not legal from `current`. `journal`: a workflow step's
   * held journal entries, which the write carries (a folded status change, on
   * either database) or writes first (src/domain/held-journal.ts); a change that writes nothing
   * leaves them held.
   */
  changeFrom(
    current: Tenant,
    change: TenantChange,
    trace?: TraceContext,
    journal?: HeldJournal,
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
  /**
   * How many tenants are in each phase (every phase present, zeros included), optionally of one
   * provider; archived tenants are counted under `archived`. Without a provider it is read from the
   * `(phase, id)` index alone.
   */
  countByPhase(filter?: { readonly provider?: string | undefined }): Promise<Readonly<Record<Phase, number>>>;
}

/**
 * The spec of every generation of every tenant, written with the generation itself (tenant
 * creation and `TenantRepository.change`), read here. Secrets are sealed at rest as in `tenants`
 * and erased once the tenant is archived; a purge removes them with the tenant.
 */
export interface TenantRevisionRepository {
  /** Newest first, keyset-paginated by generation. */
  list(
    tenantId: string,
    query: { limit: number; cursor?: string | undefined },
  ): Promise<Page<TenantRevision>>;
  get(tenantId: string, generation: number): Promise<TenantRevision | undefined>;
}

export interface PlanWrite extends PlanContent {
  readonly name: string;
  readonly actor: string;
}

export interface PlanWriteResult {
  readonly plan: Plan;
  /** False when the content equals the latest revision's (no new revision). */
  readonly changed: boolean;
}

/**
 * Plans and their immutable revisions. Secrets in a plan's config are sealed at rest (bound to the
 * plan's name). A plan a non-archived tenant uses (`spec.plan.name`) cannot be deleted.
 */
export interface PlanRepository {
  /** Revision 1. Throws ConflictError when the name is taken. */
  create(input: PlanWrite): Promise<Plan>;
  /**
   * Revision N+1 when the content differs from revision N (else unchanged). Throws NotFoundError,
   * PreconditionFailedError (stale `expectedRevision`, or a concurrent writer made N+1 first).
   */
  update(input: PlanWrite, options?: { expectedRevision?: number }): Promise<PlanWriteResult>;
  /** Create, or update when it exists (a changed plan gets a new revision): plans from configuration. */
  upsert(input: PlanWrite): Promise<PlanWriteResult>;
  /** The plan at its latest revision. */
  get(name: string): Promise<Plan | undefined>;
  /** By name, keyset-paginated. */
  list(query: { limit: number; cursor?: string | undefined }): Promise<Page<Plan>>;
  /** Newest first. */
  revisions(name: string, query: { limit: number; cursor?: string | undefined }): Promise<Page<PlanRevision>>;
  revision(name: string, revision: number): Promise<PlanRevision | undefined>;
  /** Throws NotFoundError, ConflictError (used by a tenant that is not archived). */
  delete(name: string): Promise<void>;
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
  /** Leased from the start to `owner` until `expiresAt` (epoch ms): its creator executes it, no claim. */
  readonly lease?: { readonly owner: string; readonly expiresAt: number };
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
  /**
   * Ends a run (`update` with `end.patch` under `end.guard`) together with what goes with the end:
   * the run's last journal entries, written first, and the events of its state change, appended
   * once the end is written. One statement on both databases, so all of it or none is written.
   */
  recordEnd(runId: string, end: RunEndWrite): Promise<RunEndResult>;
}

/** What `WorkflowRunRepository.recordEnd` writes. */
export interface RunEndWrite {
  readonly patch: WorkflowRunPatch;
  readonly guard: { readonly leaseOwner?: string; readonly expectedStates?: readonly RunState[] };
  /**
   * Journal entries of the run not written yet (`WorkflowStepRepository.record`). When an entry is
   * found stored already (another writer's, or one to finish: `recordAll` decides), the end is not
   * written (`journaled: false`): the caller records the entries itself, checks what it finds,
   * and ends the run after.
   */
  readonly steps: readonly WorkflowStep[];
  /** The events of the end, appended only when the end is written and the run is `expected`. */
  readonly events?: RunEndEvents | undefined;
}

/** Events that describe a run's end, built from what the writer expects the ended row to be. */
export interface RunEndEvents {
  /** The stream they go to (`Store.appendEvent`'s tenant). */
  readonly tenantId: string | null;
  readonly drafts: readonly TenantEventDraft[];
  /**
   * The columns the drafts were built from: the events are appended only when the row as written
   * has them (else `eventsWritten: false`, and the caller appends what the written row calls for).
   */
  readonly expected: Pick<WorkflowRun, 'workflow' | 'tags' | 'attempt'>;
}

export interface RunEndResult {
  /** The run as written, ended; undefined when nothing was ended (guard failed, or `journaled` false). */
  readonly run: WorkflowRun | undefined;
  /** False when a journal entry was found stored already (`RunEndWrite.steps`): the run was not ended. */
  readonly journaled: boolean;
  /** Whether `RunEndWrite.events` were appended. */
  readonly eventsWritten: boolean;
}

/** How a `started` journal entry ended (`WorkflowStepRepository.finish`). */
export interface StepOutcome {
  readonly status: 'completed' | 'failed';
  readonly result?: unknown;
  readonly error?: unknown;
  readonly finishedAt: string;
  readonly durationMs: number;
}

export interface WorkflowStepRepository {
  /**
   * Whether a step's first write (`TenantRepository.changeFrom`, `insertIfAbsent`) carries a
   * workflow's held journal entries in its own statement (PostgreSQL: folded-journal.ts; SQLite:
   * migration 0018-sqlite-held-journal) instead of writing them first; absent: it does not.
   */
  readonly carriesHeldEntries?: boolean;
  list(runId: string): Promise<readonly WorkflowStep[]>;
  /**
   * Journals a step in one write: a finished one (the fast path: a step that crashes before it is
   * recorded simply runs again), or a `started` one that `finish` completes later (a wait). A second
   * record for the same (runId, seq) is a no-op returning the stored one.
   */
  record(step: WorkflowStep): Promise<WorkflowStep>;
  /** `record` of several entries in one statement; returns each as stored, in the order given. */
  recordAll(steps: readonly WorkflowStep[]): Promise<readonly WorkflowStep[]>;
  finish(runId: string, seq: number, outcome: StepOutcome): Promise<void>;
  /** Durable promises: first resolution wins; later ones return false and change nothing. */
  resolvePromise(runId: string, key: string, value: unknown, at: string): Promise<boolean>;
  getPromise(runId: string, key: string): Promise<{ value: unknown; resolvedAt: string } | undefined>;
}

export type { ExecutionListQuery, ExecutionTransition } from '../domain/execution-ledger.js';

/** The execution ledger contract (domain/execution-ledger.ts), as the store implements it. */
export type ComputeExecutionRepository = ExecutionLedger;

export interface CallbackRepository {
  /** Pending callbacks whose `nextAttemptAt <= now`, oldest first. */
  listDue(now: number, limit: number): Promise<readonly CallbackRecord[]>;
  /** Marks the callbacks delivered at `at`, in one statement; one delivered already stays as it was. */
  markDelivered(ids: readonly string[], at: string): Promise<void>;
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
export type RetentionKind = 'events' | 'runs' | 'executions' | 'callbacks' | 'webhookDeliveries' | 'rollouts';

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
 * - callbacks: delivered ones whose run is not active (pending and dead ones are kept);
 * - webhook deliveries (with their attempts): delivered, failed or dead ones, by when they finished.
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
  /** Tenant and plan revisions rewritten under the current key (or, archived, erased). */
  readonly revisions: number;
  /** Server secrets rewritten under the current key. */
  readonly serverSecrets: number;
  /** Webhook signing secrets re-sealed. */
  readonly webhookSecrets: number;
  /** Rollout rows (a rollout's patch, a member's previous spec) rewritten under the current key. */
  readonly rolloutSecrets: number;
  /** Tenant and revision rows still stale after the pass (written meanwhile by a server with an older key). */
  readonly remaining: number;
}

export interface NewRollout {
  readonly id: string;
  readonly description: string;
  readonly selector: RolloutSelector;
  readonly change: RolloutChange;
  readonly strategy: RolloutStrategy;
  readonly failurePolicy: FailurePolicy;
  readonly createdBy: string;
  readonly createdByRole: Rollout['createdByRole'];
  /** Ordered by name, each with its wave. */
  readonly members: readonly {
    readonly tenantId: string;
    readonly tenantName: string;
    readonly wave: number;
    /** The tenant's generation when membership was resolved. */
    readonly generation: number;
  }[];
}

/** Member states counted per wave; `changed` counts the members holding the rollout's change. */
export interface MemberTally {
  readonly wave: number;
  readonly state: MemberState;
  readonly count: number;
  readonly changed: number;
}

/**
 * What a rollout does to one member, decided from the tenant as it is inside the member's
 * transaction (undefined: the tenant is gone). `change` goes through the tenant's ordinary change
 * path (a generation bump, its events); `skip` and `fail` settle the member without touching it.
 */
export type MemberDecision =
  | { readonly kind: 'change'; readonly change: TenantChange; readonly merged: boolean }
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'fail'; readonly error: { readonly code: string; readonly message: string } };

/** A rollout webhook event to queue with a change of phase (rollout-view.ts builds it). */
export interface RolloutWebhook {
  readonly type: RolloutWebhookEventType;
  /** The rollout as the API shows it, secret values masked. */
  readonly resource: Readonly<Record<string, unknown>>;
}

/** Called inside the transaction that stored `saved`: the webhook event to queue with it, if any. */
export type RolloutPublisher = (saved: Rollout) => RolloutWebhook | undefined;

export type MemberPatch = Partial<Pick<RolloutMember, 'state' | 'error' | 'healthySince' | 'finishedAt'>>;

/**
 * One member's compare-and-set: `patch` applies only while the member is still `from`; `event`
 * (about the member's tenant) is appended in the same transaction when it does.
 */
export interface MemberUpdate {
  readonly ordinal: number;
  readonly tenantId: string;
  readonly from: MemberState;
  readonly patch: MemberPatch;
  readonly event?: TenantEventDraft;
}

/** The event recording a member's new state, appended in the transaction that writes it. */
export type MemberEventOf = (member: RolloutMember) => TenantEventDraft;

/** A member with its tenant's current status (undefined: the tenant row is gone). */
export interface WatchedMember {
  readonly member: RolloutMember;
  readonly tenant: { readonly status: TenantStatus } | undefined;
}

/**
 * Rollouts and their members. Invariants:
 * - `create` stores the rollout and every member in one transaction; a tenant already held by an
 *   unfinished rollout makes it throw ConflictError (details: the tenants), and nothing is stored.
 * - `applyChange` changes a member's tenant at most once: in one transaction it checks the member
 *   is `pending`, changes the tenant and records the member `inProgress` with the generations and
 *   the spec it had before (sealed). A member that is no longer pending is returned as it is.
 *   `rollback` does the same for a changed member (`succeeded`/`failed` → `rollingBack`), at most once.
 * - `saveControl` is a compare-and-set on the rollout's version; a final phase releases every
 *   member's tenant in the same transaction.
 */
export interface RolloutRepository {
  /** `publish` names the webhook event queued in the same transaction (`rollout.started`). */
  create(rollout: NewRollout, publish?: RolloutPublisher): Promise<Rollout>;
  get(id: string): Promise<Rollout | undefined>;
  /** Newest first. */
  list(query: {
    limit: number;
    cursor?: string | undefined;
    phase?: RolloutPhase | undefined;
  }): Promise<Page<Rollout>>;
  tallies(id: string): Promise<readonly MemberTally[]>;
  /** By ordinal (name order), optionally of one state. */
  members(
    id: string,
    query: {
      limit: number;
      cursor?: string | undefined;
      state?: MemberState | undefined;
      wave?: number | undefined;
    },
  ): Promise<Page<RolloutMember>>;
  /** Members changed by the rollout, settled, not rolled back yet: by ordinal. */
  rollbackable(id: string, limit: number): Promise<readonly RolloutMember[]>;
  /** The spec the member's tenant had before the rollout changed it (opened). */
  previousSpec(id: string, ordinal: number): Promise<TenantSpec | undefined>;
  /** `eventOf` names the event appended with the member's new state (none when it stays as it was). */
  applyChange(
    id: string,
    ordinal: number,
    decide: (tenant: Tenant | undefined) => MemberDecision,
    eventOf?: MemberEventOf,
  ): Promise<RolloutMember>;
  rollback(
    id: string,
    ordinal: number,
    decide: (tenant: Tenant | undefined, previous: TenantSpec) => MemberDecision,
    eventOf?: MemberEventOf,
  ): Promise<RolloutMember>;
  /** Compare-and-set on the member's state; false when it is no longer `from`. */
  updateMember(id: string, ordinal: number, from: MemberState, patch: MemberPatch): Promise<boolean>;
  /**
   * Members of one state by ordinal, each with its tenant's status as it is now (undefined when
   * the tenant row is gone): what watching members in flight reads, in one statement per page.
   * `tenantIds`: only the members of these tenants (at most 200 of them are looked at).
   */
  watchedMembers(
    id: string,
    query: {
      state: MemberState;
      limit: number;
      cursor?: string | undefined;
      tenantIds?: readonly string[] | undefined;
    },
  ): Promise<Page<WatchedMember>>;
  /**
   * `updateMember` for many members in one transaction; returns the ordinals updated (those still
   * in their `from` state).
   */
  updateMembers(id: string, updates: readonly MemberUpdate[]): Promise<ReadonlySet<number>>;
  /** Compare-and-set on `expectedVersion`: PreconditionFailedError when the rollout moved on. */
  saveControl(
    id: string,
    update: { control: RolloutControl; waveTimes: Rollout['waveTimes'] },
    expectedVersion: number,
    publish?: RolloutPublisher,
  ): Promise<Rollout>;
  /** The unfinished rollouts holding any of these tenants: tenant id → rollout id. */
  holders(tenantIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
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
  /**
   * After each commit that appended tenant events (`events`) or queued a callback (`callbacks`),
   * this process's subscribers are told (change-signal.ts); a failed write tells nobody.
   */
  readonly changes: ChangeSubscriptions;
  readonly stats: StoreStatsRepository;
  readonly tenants: TenantRepository;
  readonly revisions: TenantRevisionRepository;
  readonly plans: PlanRepository;
  readonly events: TenantEventRepository;
  readonly runs: WorkflowRunRepository;
  readonly steps: WorkflowStepRepository;
  readonly executions: ComputeExecutionRepository;
  readonly callbacks: CallbackRepository;
  readonly idempotency: IdempotencyKeyRepository;
  readonly audit: AuditRepository;
  readonly retention: RetentionRepository;
  readonly serverSecrets: ServerSecretRepository;
  readonly webhooks: WebhookRepository;
  readonly rollouts: RolloutRepository;
  /**
   * Re-seals every stored secret not sealed under the current key, and erases the secrets of
   * archived tenants, in batches (one transaction each, rows compare-and-set): safe beside running
   * servers, idempotent if interrupted. Throws without secrets at rest configured.
   */
  resealSecrets(options?: { batchSize?: number }): Promise<ResealReport>;
  /**
   * Appends a non-phase event to a tenant's stream (run state changes, audit), or with a null
   * tenant to the stream only (a rollout's phase change).
   */
  appendEvent(tenantId: string | null, event: Omit<TenantEvent, 'seq' | 'tenantId' | 'at'>): Promise<void>;
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
