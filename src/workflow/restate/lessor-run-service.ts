/**
 * The one Restate workflow service that hosts every Lessor definition (default name `LessorRun`).
 * The workflow key is Lessor's run id, so Restate's workflow semantics give `start` its
 * idempotency: one `run` invocation per key, ever (within the workflow retention).
 *
 * - `run` (input `{workflow, input}`): turns the run row `running` (a guarded write; a run no longer
 *   active in Lessor's table — cancelled before it began — executes no step). With a `layout` (2 or
 *   later) the write is owed to the first durable call (restate-context.ts), else it is a
 *   `ctx.run` of its own (runs submitted before `layout` existed keep the journal they were started
 *   with). It then runs the named definition with the adapter context, and concludes like every
 *   engine (the outcome of run-outcome.ts), recorded by a final guarded write (not journaled: see
 *   `executeRun`). A failed or cancelled run also ends the Restate invocation with a
 *   `TerminalError`, so Restate's own view agrees.
 *   An attempt that ended inside the SDK (`ctx.fatal`) concludes nothing: the error goes back to
 *   Restate, which retries by the service retry policy. So does a definition this process does not
 *   have (another version may), and a journal layout newer than this process knows.
 * - `resolve` (shared, input `{key, value}`): resolves the durable promise `key`; the first value
 *   wins, and a later one answers `{resolved: false}` instead of failing.
 */
import './promise-polyfill.js';
import * as restate from '@restatedev/restate-sdk';
import type { Logger } from '../../domain/logger.js';
import { contextFromHeaders, inSpan, logTraceFields, type TraceContext } from '../../domain/tracing.js';
import { RunCancelledError } from '../context.js';
import type { Definitions } from '../definitions.js';
import { outcomeOf, settle } from '../run-outcome.js';
import type { ResolvedRestateOptions } from './options.js';
import { RestateDurableContext, type ContextServices, type JournalLayout } from './restate-context.js';

/** What `start` submits to the `run` handler. */
export interface RunPayload {
  readonly workflow: string;
  readonly input: unknown;
  /** The run's `traceparent` tag: every attempt's run span continues that trace. */
  readonly traceparent?: string;
  /**
   * The journal layout the run was submitted with (restate-context.ts). 6: as 5, and a step's
   * journaled outcome carries its timing: its audit entry is built from it after the `ctx.run` and
   * held until a later write carries it (held-audit.ts). 5: as 4, and a declared wait
   * shows on the run row only once it has lasted (late-wait.ts). 4: as 3, and the run begun
   * after the definitions' `JournalChange` of layout 4 (the tenant workflows read the tenant and
   * record their start in one step; a run submitted before keeps `load` then `status:start`).
   * 3: as 2, and a step that declares the wait following it enters that wait in its own `ctx.run`.
   * 2: writes back to `running` ride on the next `ctx.run`. Absent: each has a `ctx.run` of its own.
   * A replay must use the layout the run started with, so it travels with the run.
   */
  readonly layout?: number;
}

/** The journal layout `start` submits new runs with (see `RunPayload.layout`). */
export const RUN_LAYOUT = 6;

/** What a run's layout means for its context; a layout newer than this process knows is refused. */
export function journalLayout(layout: number | undefined): JournalLayout {
  if (layout !== undefined && (!Number.isInteger(layout) || layout < 2 || layout > RUN_LAYOUT))
    throw new Error(`journal layout ${String(layout)} is not known to this process`);
  return {
    number: layout ?? 1,
    deferStateWrites: layout !== undefined,
    enterDeclaredWaits: layout !== undefined && layout >= 3,
    showWaitsLate: layout !== undefined && layout >= 5,
    holdStepEntries: layout !== undefined && layout >= 6,
  };
}

export interface ResolveRequest {
  readonly key: string;
  readonly value: unknown;
}

export interface ServiceDeps extends ContextServices {
  readonly definitions: Definitions;
  readonly options: ResolvedRestateOptions;
  readonly log: Logger;
}

/** Restate's status code for "promise already completed" (the first resolution won). */
const ALREADY_COMPLETED = 409;

export function lessorRunService(deps: ServiceDeps) {
  return restate.workflow({
    name: deps.options.serviceName,
    description: 'Lessor workflow runs: key = run id, input = {workflow, input}',
    handlers: {
      run: (ctx: restate.WorkflowContext, payload: RunPayload) => tracedRun(ctx, payload, deps),
      resolve: restate.handlers.workflow.shared(
        (ctx: restate.WorkflowSharedContext, request: ResolveRequest) => resolvePromise(ctx, request),
      ),
    },
    options: serviceOptions(deps.options),
  });
}

function serviceOptions(options: ResolvedRestateOptions): restate.WorkflowOptions {
  const policy = options.retryPolicy;
  return {
    retryPolicy: {
      initialInterval: policy.initialIntervalMs,
      maxInterval: policy.maxIntervalMs,
      exponentiationFactor: policy.factor,
      maxAttempts: policy.maxAttempts,
      onMaxAttempts: 'pause',
    },
    inactivityTimeout: options.inactivityTimeoutMs,
    abortTimeout: options.abortTimeoutMs,
  };
}

/**
 * Each attempt of the handler (the first, a retry after a crash or a lost connection, a replay after
 * a suspension) is one `workflow …` span under the traceparent stored with the run, as in the
 * embedded engine. Replayed steps run nothing, so they record no span.
 */
function tracedRun(rctx: restate.WorkflowContext, payload: RunPayload, deps: ServiceDeps): Promise<unknown> {
  const attributes = {
    'lessor.run.id': rctx.key,
    'lessor.workflow': payload.workflow,
    'lessor.engine': 'restate',
  };
  const parent = contextFromHeaders({ traceparent: payload.traceparent });
  return inSpan(`workflow ${payload.workflow}`, { attributes, parent }, (_span, trace) =>
    executeRun(rctx, payload, deps, trace),
  );
}

async function executeRun(
  rctx: restate.WorkflowContext,
  payload: RunPayload,
  deps: ServiceDeps,
  trace: TraceContext,
): Promise<unknown> {
  const runId = rctx.key;
  const log = deps.log.child({ runId, workflow: payload.workflow, ...logTraceFields(trace) });
  const definition = deps.definitions.get(payload.workflow);
  if (!definition)
    throw new Error(`no workflow definition '${payload.workflow}' is registered in this process`);
  const layout = journalLayout(payload.layout);
  if (!layout.deferStateWrites && !(await rctx.run('lessor:running', () => deps.recorder.running(runId)))) {
    log.info('run is no longer active in Lessor (cancelled before it began); nothing executed');
    return null;
  }
  const ctx = new RestateDurableContext(rctx, runId, deps, log, trace, layout);
  const settled = await settle(() => definition.run(ctx, payload.input as never));
  if (ctx.fatal) throw ctx.fatal;
  // A run whose last durable call was a wait still owes its write back to `running`; like the
  // final write below it is guarded and repeated harmlessly by a retry. (An attempt that throws
  // writes the audit entries it holds as it ends, best effort, and its replay holds them again:
  // held-audit.ts.)
  const stillActive = await ctx.settleOwed();
  const outcome = outcomeOf(stillActive ? settled : { ok: false, error: new RunCancelledError(runId) });
  // Not a journaled `ctx.run` (one round trip through Restate fewer per run): the write is guarded
  // by the active states, so an attempt that repeats it — Restate retrying after the write but
  // before the invocation's end was recorded — changes nothing, and its result decides no journaled
  // value (the handler ends the same either way).
  const recorded = await deps.recorder.finish(runId, outcome, ctx.takeHeldEntries());
  if (!recorded) log.info({ state: outcome.state }, 'run was cancelled meanwhile; outcome dropped');
  else if (outcome.state === 'succeeded') log.info('run succeeded');
  else log.warn({ error: outcome.error }, `run ${outcome.state}`);
  if (outcome.state === 'succeeded') return outcome.output;
  const errorCode = outcome.state === 'cancelled' ? 409 : 500;
  throw new restate.TerminalError(`${outcome.error.name}: ${outcome.error.message}`, { errorCode });
}

async function resolvePromise(
  ctx: restate.WorkflowSharedContext,
  request: ResolveRequest,
): Promise<{ resolved: boolean }> {
  if (typeof request?.key !== 'string' || request.key === '')
    throw new restate.TerminalError('resolve needs a promise key', { errorCode: 400 });
  try {
    await ctx.promise(request.key).resolve(request.value ?? null);
    return { resolved: true };
  } catch (error) {
    if (error instanceof restate.TerminalError && error.code === ALREADY_COMPLETED)
      return { resolved: false };
    throw error;
  }
}
