/**
 * The journal logic of durable execution, pure (no I/O, no clock): given the entries a run has
 * journaled and the next durable call the workflow code makes, decide whether to replay the entry
 * or execute the call anew; and build the entries an engine writes.
 *
 * Contract of the entries (what every writer keeps):
 * - `seq` numbers durable calls in the order workflow code makes them, from 1.
 * - kind `step`: written once, when the step finished (`completed` with `result`, or `failed` with a
 *   `SerializedError`). A `started` step entry (written by a start/finish writer) is run again.
 * - kind `sleep`: written `started` with `result = {wakeAt}` when the sleep first starts, so a replay
 *   after a crash keeps the original wake time; `completed` once the wake time has passed.
 * - kind `promise`: `completed` with `result = {resolved, value?}` once the outcome is known;
 *   `started` with `result = {deadline}` while a wait is in progress, so a crash does not restart
 *   the timeout.
 * - Replaying an entry under a different name or kind throws `NonDeterminismError`.
 */
import type { StepKind, WorkflowStep } from '../domain/workflow-run.js';
import { NonDeterminismError, type PromiseOutcome } from './context.js';
import { errorFromJournal, readSerializedError, type SerializedError } from './step-error.js';

/** The next durable call made by workflow code. */
export interface DurableCall {
  readonly seq: number;
  readonly name: string;
  readonly kind: StepKind;
}

export type JournalDecision =
  /** No entry (or a step that was started but never finished): run it; `rerun` says an entry exists. */
  | { readonly type: 'execute'; readonly rerun: boolean }
  | { readonly type: 'return'; readonly value: unknown }
  | { readonly type: 'throw'; readonly error: Error }
  | { readonly type: 'sleep-done' }
  | { readonly type: 'sleep-until'; readonly wakeAt: number }
  | { readonly type: 'promise-settled'; readonly outcome: PromiseOutcome<unknown> }
  | { readonly type: 'promise-wait'; readonly deadline: number };

export interface Timing {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
}

export type StepOutcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: SerializedError };

/** A run's journal as loaded once when the run is (re)started. Immutable. */
export class Journal {
  private readonly bySeq: ReadonlyMap<number, WorkflowStep>;

  constructor(
    readonly runId: string,
    entries: readonly WorkflowStep[],
  ) {
    this.bySeq = new Map(entries.map((entry) => [entry.seq, entry]));
  }

  /** Whether the run's first durable call (seq 1) is journaled under `name`. */
  begunWith(name: string): boolean {
    return this.bySeq.get(1)?.name === name;
  }

  /** Throws `NonDeterminismError` when the entry at `call.seq` has another name or kind. */
  decide(call: DurableCall): JournalDecision {
    const entry = this.bySeq.get(call.seq);
    if (entry === undefined) return { type: 'execute', rerun: false };
    if (entry.name !== call.name || entry.kind !== call.kind) {
      throw new NonDeterminismError(
        this.runId,
        call.seq,
        `${entry.kind} '${entry.name}'`,
        `${call.kind} '${call.name}'`,
      );
    }
    switch (entry.kind) {
      case 'step':
        return this.decideStep(entry);
      case 'sleep':
        return entry.status === 'started'
          ? { type: 'sleep-until', wakeAt: numberField(entry, 'wakeAt') }
          : { type: 'sleep-done' };
      case 'promise':
        return entry.status === 'started'
          ? { type: 'promise-wait', deadline: numberField(entry, 'deadline') }
          : { type: 'promise-settled', outcome: readOutcome(entry.result) };
    }
  }

  private decideStep(entry: WorkflowStep): JournalDecision {
    if (entry.status === 'completed') return { type: 'return', value: entry.result };
    if (entry.status === 'failed') {
      return {
        type: 'throw',
        error: errorFromJournal(this.runId, entry.name, readSerializedError(entry.error)),
      };
    }
    return { type: 'execute', rerun: true };
  }
}

/** The one entry that journals a finished step. */
export function stepEntry(
  runId: string,
  call: DurableCall,
  outcome: StepOutcome,
  timing: Timing,
): WorkflowStep {
  return {
    runId,
    seq: call.seq,
    name: call.name,
    kind: call.kind,
    status: outcome.ok ? 'completed' : 'failed',
    result: outcome.ok ? outcome.value : null,
    error: outcome.ok ? null : outcome.error,
    ...timing,
  };
}

/** A wait in progress (sleep: `{wakeAt}`; promise: `{deadline}`), written when it first starts. */
export function waitStartedEntry(
  runId: string,
  call: DurableCall,
  until: number,
  startedAt: string,
): WorkflowStep {
  const result = call.kind === 'sleep' ? { wakeAt: until } : { deadline: until };
  return {
    runId,
    ...call,
    status: 'started',
    result,
    error: null,
    startedAt,
    finishedAt: null,
    durationMs: null,
  };
}

/** The journaled form of a promise outcome. */
export function outcomeValue(outcome: PromiseOutcome<unknown>): unknown {
  return outcome.resolved ? { resolved: true, value: outcome.value ?? null } : { resolved: false };
}

function readOutcome(result: unknown): PromiseOutcome<unknown> {
  const record = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
  return record.resolved === true ? { resolved: true, value: record.value } : { resolved: false };
}

function numberField(entry: WorkflowStep, field: 'wakeAt' | 'deadline'): number {
  const value = (entry.result as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(
      `run ${entry.runId}: journal entry #${entry.seq} (${entry.kind} '${entry.name}') has no '${field}'`,
    );
  }
  return value;
}
