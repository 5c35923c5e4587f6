/**
 * Deterministic identifiers (docs/architecture.md, "Compute": deterministic ids). The same logical request
 * always maps to the same id, which is what makes retries after a crash find the row the first attempt wrote.
 */
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { sha256Hex } from './canonical-json.js';
import type { ComputeOperation, WorkflowAction } from './tenant.js';

/**
 * CSPRNG bytes fetched a pool at a time (one call per 256 ids instead of one per id, which showed in
 * a create→ready profile) and sliced, each slice used once.
 */
const RANDOM_POOL_BYTES = 4096;
let randomPool = new Uint8Array(0);
let randomOffset = 0;

function random16(): Uint8Array {
  if (randomOffset + 16 > randomPool.length) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomOffset = 0;
  }
  const slice = randomPool.subarray(randomOffset, randomOffset + 16);
  randomOffset += 16;
  return slice;
}

/**
 * The uuid package's own v7 state, kept here because passing the random bytes bypasses it: a new
 * millisecond starts the 31-bit counter at a random value, within one it counts up (and borrows the
 * next millisecond when it wraps), so ids made later always sort later.
 */
const v7State = { msecs: -Infinity, seq: 0 };

export function newId(): string {
  const random = random16();
  const now = Date.now();
  if (now > v7State.msecs) {
    v7State.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
    v7State.msecs = now;
  } else {
    v7State.seq = (v7State.seq + 1) | 0;
    if (v7State.seq === 0) v7State.msecs++;
  }
  return uuidv7({ random, msecs: v7State.msecs, seq: v7State.seq });
}

/** `<tenantId>:<action>:g<generation>`, plus `:r<n>` when a human asked for retry number n. */
export function workflowRunId(
  tenantId: string,
  action: WorkflowAction,
  generation: number,
  retry = 0,
): string {
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
