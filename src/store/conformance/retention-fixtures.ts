/**
 * Records for the retention conformance cases, written through the store's own ports: runs with
 * journal entries, executions with history and callbacks, each settled at a chosen time.
 */
import assert from 'node:assert/strict';
import type { ExecutionStatus, RunState, Tenant, WorkflowAction } from '../../domain/tenant.js';
import { workflowRunId } from '../../domain/ids.js';
import { tenantRunTags } from '../../domain/tenant-run.js';
import type { NewWorkflowRun, RetentionBatchResult, RetentionKind, Store } from '../store.js';
import { newExecution, specOf, unique } from './harness.js';

/** Long past any window the cases use as a cutoff. */
export const LONG_AGO = '2020-01-01T00:00:00.000Z';
/** The cutoff of the cases: rows settled before it are past the window. */
export const CUTOFF = '2021-01-01T00:00:00.000Z';

export function newTenant(store: Store): Promise<Tenant> {
  return store.tenants.create({ name: unique('keep'), spec: specOf(), actor: 'test' });
}

export interface RunOptions {
  readonly action?: WorkflowAction;
  readonly generation?: number;
  readonly retry?: number;
  /** An active state leaves the run unfinished. */
  readonly state: RunState;
  readonly finishedAt?: string;
}

/** A tenant run with one journal entry and one resolved promise; returns its id. */
export async function runOf(store: Store, tenantId: string, options: RunOptions): Promise<string> {
  const action = options.action ?? 'provision';
  const generation = options.generation ?? 1;
  const runId = workflowRunId(tenantId, action, generation, options.retry ?? 0);
  const tags = tenantRunTags({ tenantId, generation, configHash: 'h', triggerSource: 'controller' });
  return recordedRun(store, { runId, workflow: action, tags, engine: 'embedded', input: null }, options);
}

/** A run of another subject (or of none), as `runOf` makes it; ids sort in creation order. */
export function subjectRunOf(
  store: Store,
  subject: string | null,
  options: RunOptions & { readonly workflow: string; readonly runId: string },
): Promise<string> {
  const { runId } = options;
  const tags: Record<string, string> = subject === null ? {} : { subject };
  return recordedRun(
    store,
    { runId, workflow: options.workflow, tags, engine: 'embedded', input: null },
    options,
  );
}

async function recordedRun(store: Store, run: NewWorkflowRun, options: RunOptions): Promise<string> {
  const { runId } = run;
  await store.runs.createOrGet(run);
  const at = options.finishedAt ?? LONG_AGO;
  await store.steps.record({
    runId,
    seq: 1,
    name: 'validate',
    kind: 'step',
    status: 'completed',
    result: null,
    error: null,
    startedAt: at,
    finishedAt: at,
    durationMs: 1,
  });
  await store.steps.resolvePromise(runId, 'p', { ok: true }, at);
  const settled = ['succeeded', 'failed', 'cancelled'].includes(options.state);
  await store.runs.update(runId, { state: options.state, ...(settled && { finishedAt: at }) });
  return runId;
}

/** Whether the run is still there, with its journal entry and promise. */
export async function runKept(store: Store, runId: string): Promise<boolean> {
  const run = await store.runs.get(runId);
  const steps = await store.steps.list(runId);
  const promise = await store.steps.getPromise(runId, 'p');
  assert.equal(steps.length === 1, run !== undefined, `${runId}: steps go with their run`);
  assert.equal(promise !== undefined, run !== undefined, `${runId}: promises go with their run`);
  return run !== undefined;
}

export interface ExecutionOptions {
  readonly runId: string;
  /** `running` leaves it unsettled. */
  readonly status: ExecutionStatus;
  readonly finishedAt?: string;
}

/** An execution taken pending → running → `status`, with a callback for each change; returns its id. */
export async function executionOf(
  store: Store,
  tenantId: string,
  options: ExecutionOptions,
): Promise<string> {
  const { execution } = await store.executions.insertIfAbsent(
    newExecution(tenantId, { workflowRunId: options.runId }),
  );
  const id = execution.executionId;
  const payload = (status: ExecutionStatus, at: string) => ({
    executionId: id,
    tenantId,
    workflowRunId: options.runId,
    operation: execution.operation,
    status,
    resources: {},
    error: null,
    attempt: 1,
    at,
  });
  const at = options.finishedAt ?? LONG_AGO;
  await store.executions.transition(id, {
    from: ['pending'],
    to: 'running',
    at,
    callback: payload('running', at),
  });
  if (options.status !== 'running') {
    await store.executions.transition(id, {
      from: ['running'],
      to: options.status,
      at,
      callback: payload(options.status, at),
    });
  }
  return id;
}

/** Whether the execution is still there, with its history. */
export async function executionKept(store: Store, executionId: string): Promise<boolean> {
  const execution = await store.executions.get(executionId);
  const history = await store.executions.history(executionId);
  assert.equal(
    history.length > 0,
    execution !== undefined,
    `${executionId}: history goes with its execution`,
  );
  return execution !== undefined;
}

/** Points the tenant's status at a run and an execution, as a workflow's last step does. */
export async function pointStatusAt(
  store: Store,
  tenantId: string,
  refs: { runId?: string; executionId?: string },
): Promise<void> {
  await store.tenants.change(tenantId, {
    actor: 'test',
    status: {
      ...(refs.runId !== undefined && {
        workflow: { runId: refs.runId, action: 'provision', state: 'succeeded', attempt: 1 },
      }),
      ...(refs.executionId !== undefined && {
        compute: { executionId: refs.executionId, operation: 'provision', status: 'succeeded' },
      }),
    },
  });
}

/** Sweeps `kind` in batches of `limit` until a batch comes back short; sums the batches. */
export async function sweepAll(
  store: Store,
  kind: RetentionKind,
  olderThan: string,
  limit = 100,
): Promise<{ examined: number; deleted: number; batches: number }> {
  const total = { examined: 0, deleted: 0, batches: 0 };
  let after: RetentionBatchResult['last'] = null;
  for (;;) {
    const batch = await store.retention.sweep(kind, { olderThan, after, limit });
    total.examined += batch.examined;
    total.deleted += batch.deleted;
    total.batches += 1;
    after = batch.last ?? after;
    if (batch.examined < limit) return total;
  }
}
