/**
 * Deterministic identifiers (docs/architecture.md, "Compute": deterministic ids). The same logical request
 * always maps to the same id, which is what makes retries after a crash find the row the first attempt wrote.
 */
import { v7 as uuidv7 } from 'uuid';
import { sha256Hex } from './canonical-json.js';
import type { ComputeOperation, WorkflowAction } from './tenant.js';

export function newId(): string {
  return uuidv7();
}

/** `<tenantId>:<action>:g<generation>`, plus `:r<n>` when a human asked for retry number n. */
export function workflowRunId(tenantId: string, action: WorkflowAction, generation: number, retry = 0): string {
  const base = `${tenantId}:${action}:g${generation}`;
  return retry > 0 ? `${base}:r${retry}` : base;
}

/** The retry number `workflowRunId` put into a run id (0 for the first run). */
export function retryOf(runId: string): number {
  const suffix = /:r(\d+)$/.exec(runId);
  return suffix ? Number(suffix[1]) : 0;
}

/**
 * The retry number for a new run of `action` at `generation`: one past the highest among the
 * tenant's runs of that action and generation, 0 when there is none. Not a count: retention deletes
 * old runs (but never a tenant's newest run of an action), and an id must never come back.
 */
export function nextRetry(
  runs: readonly { readonly runId: string; readonly action: WorkflowAction; readonly generation: number }[],
  action: WorkflowAction,
  generation: number,
): number {
  const same = runs.filter((run) => run.action === action && run.generation === generation);
  return same.length === 0 ? 0 : Math.max(...same.map((run) => retryOf(run.runId))) + 1;
}

/**
 * `ex-<tenantId>-<operation>-g<generation>-<hash>` where the hash covers the effective config and the
 * workflow run. The same request retried inside one run → the same execution; changed parameters,
 * or a new run for the same generation (a human retry, a drift repair) → a new execution, so a tenant
 * can be provisioned, updated and deleted many times over its life.
 */
export function computeExecutionId(input: {
  readonly tenantId: string;
  readonly operation: ComputeOperation;
  readonly generation: number;
  readonly effectiveConfigHash: string;
  readonly workflowRunId: string;
}): string {
  const discriminator = sha256Hex(`${input.effectiveConfigHash}|${input.workflowRunId}`).slice(0, 16);
  return `ex-${input.tenantId}-${input.operation}-g${input.generation}-${discriminator}`;
}
