/**
 * Small tools for engine tests, whatever the engine: definitions from functions, polling a run
 * until it reaches a state, counting step effects, holding a step at a gate, and an observer that
 * records what it hears.
 */
import { isRunActive, type WorkflowRun } from '../../domain/workflow-run.js';
import type { RunState } from '../../domain/operations.js';
import type { WorkflowContext, WorkflowDefinition } from '../context.js';
import type { WorkflowEngine } from '../engine.js';
import type { RunObserver, RunStateChange } from '../run-observer.js';

/** Where a test reads runs from: an engine, or a store's run rows. */
export type RunSource =
  | Pick<WorkflowEngine, 'getRun'>
  | { readonly runs: { get(runId: string): Promise<WorkflowRun | undefined> } };

function readRun(source: RunSource, runId: string): Promise<WorkflowRun | undefined> {
  return 'getRun' in source ? source.getRun(runId) : source.runs.get(runId);
}

/** A definition from a function. */
export function define(
  name: string,
  run: (ctx: WorkflowContext, input: unknown) => Promise<unknown>,
): WorkflowDefinition<never, unknown> {
  return { name, run };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

export function finished(source: RunSource, runId: string, timeoutMs = 10_000): Promise<WorkflowRun> {
  return eventually(
    async () => {
      const run = await readRun(source, runId);
      return run && !isRunActive(run.state) ? run : undefined;
    },
    timeoutMs,
    `run ${runId} to finish`,
  );
}

export function inState(
  source: RunSource,
  runId: string,
  state: RunState,
  timeoutMs = 10_000,
): Promise<WorkflowRun> {
  return eventually(
    async () => {
      const run = await readRun(source, runId);
      return run?.state === state ? run : undefined;
    },
    timeoutMs,
    `run ${runId} to be ${state}`,
  );
}

/** Counts side effects by key, as a step's external effect would be observed. */
export class Effects {
  private readonly counts = new Map<string, number>();
  hit(key: string): void {
    this.counts.set(key, this.count(key) + 1);
  }
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  /** Resolves once `key` was hit at least `times` times. */
  reached(key: string, times = 1, timeoutMs = 10_000): Promise<true> {
    return eventually(
      () => (this.count(key) >= times ? true : undefined),
      timeoutMs,
      `${key} to run ${times}×`,
    );
  }
}

/** A latch a step can wait on, to hold a run mid-step. */
export class Gate {
  private open_!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open_ = resolve));
  open(): void {
    this.open_();
  }
}

/** Records every change it is told of. */
export class RecordingObserver implements RunObserver {
  readonly changes: RunStateChange[] = [];

  async runChanged(change: RunStateChange): Promise<void> {
    this.changes.push(change);
  }

  /** The states the run went through, in the order the engine reported them. */
  states(runId: string): RunState[] {
    return this.changes.filter((c) => c.run.runId === runId).map((c) => c.state);
  }

  /** Once the run's reported states include `state`. */
  saw(runId: string, state: RunState, timeoutMs = 10_000): Promise<RunState[]> {
    return eventually(
      () => (this.states(runId).includes(state) ? this.states(runId) : undefined),
      timeoutMs,
      `the observer to hear that ${runId} is ${state}`,
    );
  }
}
