/**
 * `applyTenantChange` is the single function that moves a tenant forward: spec changes bump
 * `generation` only when the spec really differs, phase changes pass `assertTransition` and always
 * yield a `PhaseChanged` event. The store persists its output (tenant + events) in one transaction.
 */
import { deepEqualJson } from './canonical-json.js';
import { setCondition, type ConditionUpdate } from './conditions.js';
import { assertTransition } from './phase-machine.js';
import type { TenantEventDraft, TenantEventType } from './tenant-event.js';
import type { Phase, Tenant, TenantSpec, TenantStatus } from './tenant.js';

export interface PhaseChange {
  readonly to: Phase;
  readonly reason: string;
  readonly message?: string;
  readonly runId?: string | null;
  readonly executionId?: string | null;
}

export interface TenantChange {
  readonly actor: string;
  readonly spec?: TenantSpec;
  readonly phase?: PhaseChange;
  /** Status fields other than `phase` and `conditions`. */
  readonly status?: Partial<Omit<TenantStatus, 'phase' | 'conditions'>>;
  readonly conditions?: readonly ConditionUpdate[];
  /** Extra audit events (delete requested, retry requested, …). */
  readonly audit?: readonly { type: TenantEventType; reason: string; message: string }[];
}

export interface AppliedChange {
  readonly tenant: Tenant;
  readonly events: readonly TenantEventDraft[];
  /** False when the change left the tenant exactly as it was (nothing to write). */
  readonly changed: boolean;
}

export function applyTenantChange(tenant: Tenant, change: TenantChange, now: string): AppliedChange {
  const events: TenantEventDraft[] = [];
  const event = (e: Omit<TenantEventDraft, 'actor' | 'generation'> & { generation?: number }): void => {
    events.push({ actor: change.actor, generation: generation, ...e });
  };

  let spec = tenant.spec;
  let generation = tenant.generation;
  if (change.spec && !deepEqualJson(change.spec, tenant.spec)) {
    spec = change.spec;
    generation += 1;
    event({
      type: 'SpecChanged',
      reason: 'SpecChanged',
      message: `spec changed, generation ${generation}`,
      fromPhase: null,
      toPhase: null,
      runId: null,
      executionId: null,
    });
  }

  let status: TenantStatus = { ...tenant.status, ...change.status };
  if (change.phase && change.phase.to !== tenant.status.phase) {
    assertTransition(tenant.status.phase, change.phase.to);
    status = { ...status, phase: change.phase.to };
    event({
      type: 'PhaseChanged',
      reason: change.phase.reason,
      message: change.phase.message ?? '',
      fromPhase: tenant.status.phase,
      toPhase: change.phase.to,
      runId: change.phase.runId ?? null,
      executionId: change.phase.executionId ?? null,
    });
  }
  if (change.phase?.message !== undefined && change.status?.message === undefined) {
    status = { ...status, message: change.phase.message };
  }
  for (const update of change.conditions ?? []) {
    status = { ...status, conditions: setCondition(status.conditions, update, generation, now) };
  }
  for (const audit of change.audit ?? []) {
    event({ ...audit, fromPhase: null, toPhase: null, runId: null, executionId: null });
  }

  const changed = events.length > 0 || !deepEqualJson(status, tenant.status);
  if (!changed) return { tenant, events, changed };
  return {
    tenant: { ...tenant, spec, generation, status, version: tenant.version + 1, updatedAt: now },
    events,
    changed,
  };
}

/**
 * A change of a tenant's status fields, computed ahead so that another write can make it in its own
 * statement (a new compute execution's insert shows the execution on the tenant: docs/architecture.md,
 * "The write path in statements"). It is a compare-and-set on `before.version`, exactly as
 * `TenantRepository.changeFrom` makes it: `after`'s status, observed generation, version and
 * `updatedAt` are written only while the row is still at `before.version`.
 */
export interface TenantStatusWrite {
  readonly before: Tenant;
  readonly after: Tenant;
}

/**
 * `change` (status fields only) applied to `tenant` as a `TenantStatusWrite`; null when it would
 * write nothing, or more than the status columns `changeFrom` writes in one update (events, a new
 * generation, an archive) — such a change goes through `changeFrom` itself.
 */
export function statusWriteOf(
  tenant: Tenant,
  change: Pick<TenantChange, 'actor' | 'status'>,
  now: string,
): TenantStatusWrite | null {
  const applied = applyTenantChange(tenant, change, now);
  const { tenant: after } = applied;
  if (!applied.changed || applied.events.length > 0) return null;
  if (after.generation !== tenant.generation || after.status.phase === 'archived') return null;
  return { before: tenant, after };
}
