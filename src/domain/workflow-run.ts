/**
 * Workflow runs and their step journal as stored. Generic: a run names its definition
 * (`workflow`) and carries `tags`, a string map its starter chooses; nothing here knows what a run
 * works on. The tag `subject` (e.g. `tenant:<id>`, `rollout:<id>`) is indexed: it is how the runs
 * of one thing are found (`listBySubject`), kept by retention and removed with their thing.
 */
import type { RunState } from './operations.js';

/** Who asked for a run (a tenant run records it as its `trigger` tag). */
export type TriggerSource = 'api' | 'controller' | 'retry';
export type EngineType = 'embedded' | 'restate';

/** A run's tags: plain strings, chosen by whoever starts it. */
export type RunTags = Readonly<Record<string, string>>;

/** The tag the store indexes: what a run works on. */
export const SUBJECT_TAG = 'subject';

export const ACTIVE_RUN_STATES: readonly RunState[] = ['pending', 'running', 'waiting', 'backing-off'];

export function isRunActive(state: RunState): boolean {
  return ACTIVE_RUN_STATES.includes(state);
}

export interface WorkflowRun {
  readonly runId: string;
  /** Name of the definition that executes the run. */
  readonly workflow: string;
  readonly tags: RunTags;
  readonly engine: EngineType;
  readonly state: RunState;
  readonly attempt: number;
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
