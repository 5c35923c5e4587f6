/**
 * The run rows every engine keeps in Lessor's `workflow_runs` table (the source of truth the API
 * reads, whichever engine executes), and the observer told of their state changes. Engines write
 * run rows only through here: creation, state changes under the engine's guard, the end and an
 * outside cancellation.
 */
import type { Logger } from '../domain/logger.js';
import type { RunState } from '../domain/operations.js';
import {
  ACTIVE_RUN_STATES,
  type EngineType,
  type WorkflowRun,
  type WorkflowStep,
} from '../domain/workflow-run.js';
import type { NewWorkflowRun, WorkflowRunPatch, WorkflowRunRepository } from '../store/store.js';
import type { StartRunRequest } from './engine.js';
import { eventsOffered, tellObserver, type RunObserver } from './run-observer.js';
import { cancelPatch, endPatch, type RunOutcome } from './run-outcome.js';
import { toJournalValue } from './step-error.js';

/**
 * How long a wait lasts before the run row shows it, on either engine (embedded:
 * `RunWaits.inMemoryShownLate`; restate: late-wait.ts): a wait that ends sooner — a callback that
 * arrives promptly — leaves the row as it was.
 */
export const SHOW_WAIT_AFTER_MS = 1_000;

export type RunRows = Pick<WorkflowRunRepository, 'createOrGet' | 'get' | 'update' | 'recordEnd'>;

export interface EndOptions {
  /** Only while this owner holds the lease. */
  readonly leaseOwner?: string;
  /** The attempt the run ends in (the row's, when absent). */
  readonly attempt?: number;
  /** The run as the caller last read it (its workflow and tags, and its attempt unless `attempt`). */
  readonly known?: WorkflowRun;
  /** Journal entries not written yet, written with the end (`WorkflowRunRepository.recordEnd`). */
  readonly steps?: readonly WorkflowStep[];
}

/** What `RunRecords.end` did: the ended run (undefined: not ended), and whether `steps` were all new. */
export interface RunEnd {
  readonly run: WorkflowRun | undefined;
  readonly journaled: boolean;
}

export interface RunGuard {
  readonly leaseOwner?: string;
  readonly expectedStates?: readonly RunState[];
}

export class RunRecords {
  constructor(
    private readonly runs: RunRows,
    private readonly observer: RunObserver,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /**
   * Idempotent on `runId`: an existing run comes back as stored (`created: false`). With `lease`, a
   * new run is leased to its creator from the start (NewWorkflowRun.lease).
   */
  async create(
    request: StartRunRequest,
    engine: EngineType,
    lease?: NewWorkflowRun['lease'],
  ): Promise<{ run: WorkflowRun; created: boolean }> {
    const result = await this.runs.createOrGet({
      runId: request.runId,
      workflow: request.workflow,
      // The starter put the traceparent its runs continue in `tags` (src/domain/tracing.ts).
      tags: request.tags ?? {},
      engine,
      input: toJournalValue(request.input),
      ...(lease && { lease }),
    });
    if (result.created) await this.tell(result.run, 'pending');
    return result;
  }

  get(runId: string): Promise<WorkflowRun | undefined> {
    return this.runs.get(runId);
  }

  /**
   * Writes `patch` when `guard` holds (undefined when it did not); the observer hears of a new
   * state when it differs from `previous`, what the writer knows the row showed.
   */
  async write(
    runId: string,
    patch: WorkflowRunPatch,
    guard: RunGuard,
    previous: RunState | null,
  ): Promise<WorkflowRun | undefined> {
    const run = await this.runs.update(runId, patch, guard);
    if (run && patch.state !== undefined && patch.state !== previous) await this.tell(run, patch.state);
    return run;
  }

  /**
   * Ends an active run (and, with `leaseOwner`, one still held by that owner); `run` undefined
   * otherwise. In the same write (`WorkflowRunRepository.recordEnd`): `steps`, the run's journal entries
   * not written yet — when one is found stored already, nothing is ended and `journaled` is false
   * (the caller records them itself and ends the run after) — and, with `known` (the run as the
   * caller last read it), the events the observer offers for the end (`RunObserver.eventsFor`).
   */
  async end(runId: string, outcome: RunOutcome, options: EndOptions = {}): Promise<RunEnd> {
    const { leaseOwner, attempt, known, steps = [] } = options;
    const patch = { ...endPatch(outcome, this.now()), ...(attempt !== undefined && { attempt }) };
    const guard = { expectedStates: ACTIVE_RUN_STATES, ...(leaseOwner !== undefined && { leaseOwner }) };
    const state = outcome.state;
    const expected = known && ({ ...known, ...definedFields(patch), state } as WorkflowRun);
    const events = expected && eventsOffered(this.observer, { run: expected, state }, this.log);
    const end = { patch, guard, steps, ...(events && { events: { ...events, expected } }) };
    const { run, journaled, eventsWritten } = await this.runs.recordEnd(runId, end);
    if (run) await tellObserver(this.observer, { run, state, eventsWritten }, this.log);
    return { run, journaled };
  }

  /** Cancels an active run from outside; undefined when it had ended already (or does not exist). */
  cancel(runId: string, reason: string): Promise<WorkflowRun | undefined> {
    return this.write(runId, cancelPatch(reason, this.now()), { expectedStates: ACTIVE_RUN_STATES }, null);
  }

  private tell(run: WorkflowRun, state: RunState): Promise<void> {
    return tellObserver(this.observer, { run, state }, this.log);
  }
}

/** The fields `patch` sets (an undefined field sets nothing). */
function definedFields(patch: WorkflowRunPatch): WorkflowRunPatch {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
}
