/**
 * Executing one step, the same way in every engine: run the function once, turn what it returned
 * or threw into the outcome to journal, and time it. A failure on Lessor's own store is thrown
 * instead of journaled (`failedOnTheStore`): the engine runs the step again later.
 */
import type { Logger } from '../domain/logger.js';
import { inSpan, type TraceContext } from '../domain/tracing.js';
import type { WorkflowStep } from '../domain/workflow-run.js';
import { stepEntry, type DurableCall, type StepOutcome, type Timing } from './journal.js';
import { failedOnTheStore, serializeError, toJournalValue } from './step-error.js';

export interface ExecutedStep {
  readonly outcome: StepOutcome;
  /** The finished journal entry. */
  readonly entry: WorkflowStep;
  /** The entry's timing (its `startedAt`, `finishedAt` and `durationMs`). */
  readonly timing: Timing;
}

export async function executeStep(
  runId: string,
  call: DurableCall,
  fn: (trace: TraceContext) => Promise<unknown>,
  options: {
    readonly now: () => number;
    readonly log: Logger;
    /** The run's trace context: the step's span is its child. */
    readonly trace?: TraceContext | undefined;
  },
): Promise<ExecutedStep> {
  const startedMs = options.now();
  const attributes = { 'lessor.step.name': call.name, 'lessor.step.seq': call.seq };
  const outcome = await inSpan(`step ${call.name}`, { attributes, parent: options.trace }, (_span, trace) =>
    stepOutcome(() => fn(trace)),
  );
  const timed = timing(startedMs, options.now());
  const entry = stepEntry(runId, call, outcome, timed);
  options.log.debug(
    { step: call.name, seq: call.seq, durationMs: entry.durationMs, outcome: entry.status },
    'step finished',
  );
  return { outcome, entry, timing: timed };
}

async function stepOutcome(fn: () => Promise<unknown>): Promise<StepOutcome> {
  try {
    return { ok: true, value: toJournalValue(await fn()) };
  } catch (error) {
    if (failedOnTheStore(error)) throw error;
    return { ok: false, error: serializeError(error) };
  }
}

/** The timing fields of a journal entry. */
export function timing(startedMs: number, finishedMs: number): Timing {
  return {
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    durationMs: Math.max(0, finishedMs - startedMs),
  };
}
