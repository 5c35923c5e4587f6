/**
 * The `rollout` workflow definition: a loop of durable steps, each a run of ticks
 * (`RolloutDriver.drive`), with a durable sleep between them (none after a step that ended on its
 * budget), written against the generic workflow context so both engines run it
 * unchanged. The rollout's state lives in its own rows, not in the journal: a tick decides from the
 * current rows, so replaying after a crash, or a tick that ran twice, changes no tenant twice and
 * skips no wave. A failed tick (the database was away) is journaled as such, and the loop simply
 * ticks again after the pause. The run ends when the rollout is final, idle (paused or halted with
 * nothing in flight: the command that resumes it starts the next run), or driven by a newer run.
 */
import { withTraceparent, type TraceContext } from '../domain/tracing.js';
import { rolloutRunId, rolloutSubject, type RolloutPhase } from '../domain/rollout.js';
import type { StartRunRequest } from '../workflow/engine.js';
import { StepFailedError, type WorkflowContext, type WorkflowDefinition } from '../workflow/context.js';
import type { RolloutDriver } from './rollout-driver.js';

export const ROLLOUT_WORKFLOW = 'rollout';

export interface RolloutWorkflowInput {
  readonly rolloutId: string;
  /** `RolloutControl.run` of the command that started this run. */
  readonly run: number;
}

export interface RolloutWorkflowResult {
  readonly phase: RolloutPhase;
  readonly ticks: number;
}

/** Pause after a failed tick before the next one. */
const FAILED_TICK_PAUSE_MS = 1_000;

export function rolloutWorkflow(
  driver: RolloutDriver,
): WorkflowDefinition<RolloutWorkflowInput, RolloutWorkflowResult> {
  return { name: ROLLOUT_WORKFLOW, run: (ctx, input) => runRollout(ctx, driver, input) };
}

async function runRollout(
  ctx: WorkflowContext,
  driver: RolloutDriver,
  input: RolloutWorkflowInput,
): Promise<RolloutWorkflowResult> {
  for (let tick = 0; ; tick++) {
    let waitMs = FAILED_TICK_PAUSE_MS;
    try {
      const result = await ctx.step(`tick:${tick}`, (trace) =>
        driver.drive(input.rolloutId, input.run, trace),
      );
      if (result.done) return { phase: result.phase, ticks: tick + 1 };
      waitMs = result.waitMs;
    } catch (error) {
      if (!(error instanceof StepFailedError)) throw error;
      ctx.log.warn(
        { err: error, rolloutId: input.rolloutId },
        'a rollout tick failed; the next one tries again',
      );
    }
    await ctx.sleep(`wait:${tick}`, waitMs, { state: 'waiting' });
  }
}

/** The start request of a rollout's run number `run` (idempotent on its run id). */
/** `trace`: the starter's trace context (a request's), which the run continues. */
export function rolloutRunRequest(rolloutId: string, run: number, trace?: TraceContext): StartRunRequest {
  return {
    runId: rolloutRunId(rolloutId, run),
    workflow: ROLLOUT_WORKFLOW,
    input: { rolloutId, run } satisfies RolloutWorkflowInput,
    tags: withTraceparent({ subject: rolloutSubject(rolloutId) }, trace),
  };
}
