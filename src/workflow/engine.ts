/**
 * The workflow engine contract, implemented by `embedded/` and `restate/` (both pass the
 * conformance suite in `testing/engine-conformance.ts`). Generic: it knows runs, steps and
 * promises — a run names the definition that executes it and carries its starter's tags — nothing
 * of what the runs are about. Lessor's `workflow_runs` table is the source of truth the API reads,
 * whichever engine executes the run; how runs go is reported to the engine's `RunObserver`.
 *
 * Invariants:
 * - `start` is idempotent on `runId`: a second start (concurrent or later) returns the existing run
 *   and executes nothing new.
 * - `resolvePromise` is idempotent: the first value wins; duplicates and late deliveries (after the
 *   run finished) change nothing and do not throw.
 * - After a crash of any process, every unfinished run resumes (embedded: on the next `open`; with
 *   several processes sharing PostgreSQL, an expired lease is taken over).
 */
import type { Logger } from '../domain/logger.js';
import type { EngineType, RunTags, WorkflowRun, WorkflowStep } from '../domain/workflow-run.js';
import type { WorkflowDefinition } from './context.js';
import type { RunObserver } from './run-observer.js';

export interface StartRunRequest {
  readonly runId: string;
  /** Name of a registered definition: the one that executes the run. */
  readonly workflow: string;
  /** The definition's input; stored as JSON. */
  readonly input: unknown;
  /** Stored with the run as given; the `subject` tag is indexed (see domain/workflow-run.ts). */
  readonly tags?: RunTags;
}

export interface WorkflowEngine {
  readonly type: EngineType;
  /** Begins executing runs (resumes unfinished ones). Definitions are registered before. */
  open(): Promise<void>;
  /** Throws `ValidationError` for an unknown definition, before anything is stored. */
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

/** What every engine is built with, besides its own settings. */
export interface WorkflowEngineOptions {
  readonly definitions: readonly WorkflowDefinition<never, unknown>[];
  /** Told of every run's state changes (see run-observer.ts); default: nobody. */
  readonly observer?: RunObserver;
  readonly logger: Logger;
}
