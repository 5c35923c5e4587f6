/** The executions, runs and callbacks the fake controller leaves behind, as the API shows them. */
import type { Callback, ComputeExecutionWithHistory, Tenant, WorkflowRun } from '../../api/types.js';

export class FakeRecords {
  readonly executions = new Map<string, ComputeExecutionWithHistory>();
  readonly runs = new Map<string, WorkflowRun>();
  readonly callbacks: Callback[] = [];

  /** A running execution and its run (one step). */
  start(
    tenant: Tenant,
    executionId: string,
    runId: string,
    operation: 'provision' | 'update' | 'delete',
  ): void {
    const now = new Date().toISOString();
    this.executions.set(executionId, {
      executionId,
      tenantId: tenant.id,
      workflowRunId: runId,
      operation,
      provider: tenant.spec.provider,
      status: 'running',
      attempt: 1,
      timeoutMs: 30000,
      generation: tenant.generation,
      configHash: 'h',
      resources: {},
      endpoints: [],
      partial: null,
      error: null,
      createdAt: now,
      startedAt: now,
      finishedAt: null,
      history: [{ seq: 1, status: 'running', attempt: 1, at: now, details: {} }],
    });
    this.runs.set(runId, {
      runId,
      tenantId: tenant.id,
      action: operation,
      engine: 'embedded',
      state: 'running',
      attempt: 1,
      triggerSource: 'controller',
      generation: tenant.generation,
      configHash: 'h',
      input: {},
      output: null,
      error: null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
      steps: [
        {
          seq: 1,
          name: 'compute',
          kind: 'step',
          status: 'started',
          result: null,
          error: null,
          startedAt: now,
          finishedAt: null,
          durationMs: null,
        },
      ],
    });
  }

  finish(executionId: string, status: 'succeeded' | 'failed', error: Tenant['status']['lastError']): void {
    const execution = this.executions.get(executionId);
    if (!execution) return;
    const at = new Date().toISOString();
    const history = [
      ...execution.history,
      { seq: execution.history.length + 1, status, attempt: 1, at, details: {} },
    ];
    this.executions.set(executionId, { ...execution, status, error, finishedAt: at, history });
    const run = this.runs.get(execution.workflowRunId);
    if (run) this.runs.set(run.runId, { ...run, state: status, finishedAt: at, error: error ?? null });
    this.callbacks.push({
      id: `cb-${this.callbacks.length + 1}`,
      executionId,
      workflowRunId: execution.workflowRunId,
      tenantId: execution.tenantId,
      payload: {
        executionId,
        tenantId: execution.tenantId,
        workflowRunId: execution.workflowRunId,
        operation: execution.operation,
        status,
        resources: {},
        error,
        attempt: 1,
        at,
      },
      state: status === 'failed' ? 'dead' : 'delivered',
      attempts: status === 'failed' ? 8 : 1,
      nextAttemptAt: 0,
      lastError: status === 'failed' ? 'run not waiting' : null,
      createdAt: at,
      deliveredAt: status === 'failed' ? null : at,
    });
  }
}
