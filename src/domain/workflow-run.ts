/** Workflow runs and their step journal as stored (SPEC §5.3). Generic: no tenant semantics here. */
import type { RunState, WorkflowAction } from './tenant.js';

export type TriggerSource = 'api' | 'controller' | 'retry';
export type EngineType = 'embedded' | 'restate';

export const ACTIVE_RUN_STATES: readonly RunState[] = ['pending', 'running', 'waiting', 'backing-off'];

export function isRunActive(state: RunState): boolean {
  return ACTIVE_RUN_STATES.includes(state);
}

export interface WorkflowRun {
  readonly runId: string;
  readonly tenantId: string;
  readonly action: WorkflowAction;
  readonly engine: EngineType;
  readonly state: RunState;
  readonly attempt: number;
  readonly triggerSource: TriggerSource;
  readonly generation: number;
  readonly configHash: string;
  readonly input: unknown;
  readonly output: unknown;
  readonly error: unknown;
  /** Embedded engine: when the run should next be looked at (timer, backoff), epoch ms. */
  readonly wakeAt: number | null;
  /** Embedded engine lease: owner id and expiry (epoch ms). */
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

export type StepKind = 'step' | 'sleep' | 'promise';
export type StepStatus = 'started' | 'completed' | 'failed';

/** One journal entry. `seq` orders entries within a run; replay matches by seq and checks the name. */
export interface WorkflowStep {
  readonly runId: string;
  readonly seq: number;
  readonly name: string;
  readonly kind: StepKind;
  readonly status: StepStatus;
  readonly result: unknown;
  readonly error: unknown;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
}
