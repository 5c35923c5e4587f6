/**
 * The workflow engine contract, implemented by `embedded/` and `restate/`. Generic: it knows runs,
 * steps and promises, nothing of tenants or compute. Lessor's `workflow_runs` table is the source of
 * truth the API reads, whichever engine executes the run.
 *
 * Invariants:
 * - `start` is idempotent on `runId`: a second start (concurrent or later) returns the existing run
 *   and executes nothing new.
 * - `resolvePromise` is idempotent: the first value wins; duplicates and late deliveries (after the
 *   run finished) change nothing and do not throw.
 * - After a crash of any process, every unfinished run resumes (embedded: on the next `open`; with
 *   several processes sharing PostgreSQL, an expired lease is taken over).
 */
import type { EngineType, TriggerSource, WorkflowRun, WorkflowStep } from '../domain/workflow-run.js';
import type { WorkflowAction } from '../domain/tenant.js';
import type { WorkflowDefinition } from './context.js';

export interface StartRunRequest {
  readonly runId: string;
  /** Name of a registered definition. */
  readonly workflow: string;
  readonly input: unknown;
  readonly tenantId: string;
  readonly action: WorkflowAction;
  readonly triggerSource: TriggerSource;
  readonly generation: number;
  readonly configHash: string;
}

export interface WorkflowEngine {
  readonly type: EngineType;
  /** Begins executing runs (resumes unfinished ones). Definitions are registered before. */
  open(): Promise<void>;
  start(request: StartRunRequest): Promise<{ run: WorkflowRun; created: boolean }>;
  /** Stops a run at its next durable call (or at once if it is sleeping/waiting); false if already finished. */
  cancel(runId: string, reason: string): Promise<boolean>;
  resolvePromise(runId: string, key: string, value: unknown): Promise<void>;
  getRun(runId: string): Promise<WorkflowRun | undefined>;
  journal(runId: string): Promise<readonly WorkflowStep[]>;
  /** Readiness of the engine (embedded: always; restate: admin API answers). */
  ping(): Promise<void>;
  /** Stops taking runs; waits up to `graceMs` for in-flight steps to finish or checkpoint. */
  close(graceMs: number): Promise<void>;
}

export interface WorkflowEngineOptions {
  readonly definitions: readonly WorkflowDefinition<never, unknown>[];
}
