/** One row of a tenant's append-only history: phase transitions and audit events (docs/api.md, "Events"). */
import type { Phase } from './tenant.js';

/**
 * Tenant events double as the event stream (SSE): phase changes and audit entries, plus run and
 * execution state changes of the tenant's workflows, so one table gives one resumable sequence.
 */
export type TenantEventType =
  | 'Created'
  | 'SpecChanged'
  | 'PhaseChanged'
  | 'DeleteRequested'
  | 'RetryRequested'
  | 'Audit'
  | 'RunStateChanged'
  | 'ExecutionStatusChanged';

export interface TenantEventDraft {
  readonly type: TenantEventType;
  /** Who: `api:<token name>`, `controller`, `workflow:<runId>`, … */
  readonly actor: string;
  /** Why, machine-readable (`ProvisionStarted`, `ComputeFailed`, …). */
  readonly reason: string;
  readonly message: string;
  readonly fromPhase: Phase | null;
  readonly toPhase: Phase | null;
  readonly generation: number;
  readonly runId: string | null;
  readonly executionId: string | null;
  /** Extra structured details (run state, execution status, error code); never secrets. */
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface TenantEvent extends TenantEventDraft {
  /** Monotonic per database; also the SSE event id. */
  readonly seq: number;
  readonly tenantId: string;
  readonly at: string;
}
