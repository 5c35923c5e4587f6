/**
 * `--wait` and `--watch`: follow one tenant until it settles. Level-triggered: every wake-up reads
 * the tenant again and judges its current state, so a missed or duplicated event changes nothing.
 * Wake-ups come from the server's event stream filtered by tenant (SSE) with a slow safety poll,
 * or from a fast poll (~250 ms) when the stream is not available.
 */
import { ApiError, type LessorClient } from '../api/client.js';
import type { Tenant } from '../api/types.js';

/** ready: the written generation is running; suspended: stopped, kept; archived: deleted; settled: any steady phase. */
export type WaitGoal = 'ready' | 'suspended' | 'archived' | 'settled';

export interface WaitCriteria {
  readonly goal: WaitGoal;
  /** For `ready`: the generation that must be observed (the one the write produced). */
  readonly generation: number;
  /**
   * The workflow run (`runId#attempt`) of a tenant that was already failed when the write answered
   * and whose write triggered new work: that failure is old news until the tenant moves on.
   */
  readonly staleRun: string | null;
}

export type Verdict =
  | { readonly kind: 'pending' }
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly reason: string };

/** What the waiter has seen so far. */
export interface WaitMemory {
  /** The tenant was seen outside `failed` since the write (so a later failure is new). */
  leftFailed: boolean;
}

export function runKey(tenant: Tenant): string {
  const run = tenant.status.workflow;
  return run ? `${run.runId}#${run.attempt}` : '-';
}

/**
 * The criteria after a write that answered `after`. `before` is the tenant before the write when
 * known (update, patch); a write that changed nothing triggers no work, so its state is final.
 */
export function criteriaAfterWrite(goal: WaitGoal, after: Tenant, before?: Tenant): WaitCriteria {
  const triggeredWork =
    before === undefined ||
    before.generation !== after.generation ||
    before.status.phase !== after.status.phase;
  const staleRun = after.status.phase === 'failed' && triggeredWork ? runKey(after) : null;
  return { goal, generation: after.generation, staleRun };
}

export function failureReason(tenant: Tenant): string {
  const error = tenant.status.lastError;
  if (error) return `${error.code} (${error.classification}): ${error.message}`;
  return tenant.status.message || 'no error recorded';
}

/** Judges one observation of the tenant. Pure apart from updating `memory`. */
export function judge(tenant: Tenant, criteria: WaitCriteria, memory: WaitMemory): Verdict {
  const { phase, observedGeneration } = tenant.status;
  if (phase !== 'failed') memory.leftFailed = true;
  if (phase === 'failed') {
    const stale = criteria.staleRun !== null && !memory.leftFailed && runKey(tenant) === criteria.staleRun;
    return stale ? { kind: 'pending' } : { kind: 'failed', reason: failureReason(tenant) };
  }
  if (criteria.goal === 'archived') return phase === 'archived' ? { kind: 'done' } : { kind: 'pending' };
  if (phase === 'suspended' && (criteria.goal === 'suspended' || criteria.goal === 'settled'))
    return { kind: 'done' };
  if (phase === 'archived') {
    return criteria.goal === 'settled'
      ? { kind: 'done' }
      : { kind: 'failed', reason: 'the tenant was deleted' };
  }
  if (criteria.goal === 'suspended') return { kind: 'pending' };
  const generation = criteria.goal === 'settled' ? tenant.generation : criteria.generation;
  return phase === 'ready' && observedGeneration >= generation ? { kind: 'done' } : { kind: 'pending' };
}

export interface WaitOptions {
  readonly client: LessorClient;
  /** The tenant's id (stable across delete and re-create of a name). */
  readonly tenantId: string;
  readonly criteria: WaitCriteria;
  readonly timeoutMs: number;
  /** Poll interval without the event stream (default 250 ms). */
  readonly pollMs?: number;
  /**
   * Longest safety poll while the event stream is up (default 2 s). The interval starts at `pollMs`
   * and doubles up to this: events committed before the stream connected wake no one.
   */
  readonly ssePollMs?: number;
  /** Use the SSE stream for wake-ups (default true). */
  readonly events?: boolean;
  /** Called with the first observation and every one that differs from the previous. */
  readonly onChange?: (tenant: Tenant) => void;
}

export type WaitResult =
  | { readonly outcome: 'done'; readonly tenant: Tenant }
  | { readonly outcome: 'failed'; readonly tenant: Tenant; readonly reason: string }
  | { readonly outcome: 'timeout'; readonly tenant: Tenant };

/** A one-shot, re-armable wake-up signal. */
class Wakeup {
  private pending = false;
  private resolveWait: (() => void) | undefined;

  fire(): void {
    this.pending = true;
    this.resolveWait?.();
  }

  /** Resolves on `fire()` (also one that came before) to true, or after `ms` to false. */
  async wait(ms: number): Promise<boolean> {
    const fired =
      this.pending ||
      (await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        this.resolveWait = () => (clearTimeout(timer), resolve(true));
      }));
    this.pending = false;
    this.resolveWait = undefined;
    return fired;
  }
}

/** Follows the tenant from `first` (the write's answer) until the criteria are met or time is up. */
export async function waitForTenant(options: WaitOptions, first: Tenant): Promise<WaitResult> {
  const deadline = Date.now() + options.timeoutMs;
  const stop = new AbortController();
  const wakeup = new Wakeup();
  const stream = { up: options.events !== false };
  if (stream.up) void followEvents(options, stop.signal, wakeup, stream);
  const memory: WaitMemory = { leftFailed: false };
  const observe = changeReporter(options.onChange);
  const pollMs = options.pollMs ?? 250;
  let interval = pollMs;
  let tenant = first;
  try {
    for (;;) {
      observe(tenant);
      const verdict = judge(tenant, options.criteria, memory);
      if (verdict.kind === 'done') return { outcome: 'done', tenant };
      if (verdict.kind === 'failed') return { outcome: 'failed', tenant, reason: verdict.reason };
      const left = deadline - Date.now();
      if (left <= 0) return { outcome: 'timeout', tenant };
      const woken = await wakeup.wait(Math.min(left, interval));
      interval = stream.up && !woken ? Math.min(interval * 2, options.ssePollMs ?? 2000) : pollMs;
      const next = await readTenant(options, tenant);
      if (next === 'gone') return { outcome: 'done', tenant };
      tenant = next;
    }
  } finally {
    stop.abort();
  }
}

async function followEvents(
  options: WaitOptions,
  signal: AbortSignal,
  wakeup: Wakeup,
  stream: { up: boolean },
) {
  try {
    for await (const _event of options.client.streamEvents({ tenantId: options.tenantId, signal }))
      wakeup.fire();
  } catch {
    // The stream is refused (old server, proxy): fall back to polling.
  } finally {
    stream.up = false;
    wakeup.fire();
  }
}

/**
 * The tenant now; `gone` when it was purged while waiting for `archived`. Transient failures (the
 * server restarting, 503, a dropped connection) keep the last observation and the wait goes on.
 */
async function readTenant(options: WaitOptions, last: Tenant): Promise<Tenant | 'gone'> {
  try {
    return await options.client.getTenant(options.tenantId);
  } catch (error) {
    if (error instanceof ApiError) {
      if (error.status === 404 && options.criteria.goal === 'archived') return 'gone';
      if (error.status === 503 || error.status === 429) return last;
      throw error;
    }
    if (error instanceof TypeError || (error as { name?: unknown } | null)?.name === 'TimeoutError')
      return last;
    throw error;
  }
}

/** Calls `onChange` only when what a user sees of the tenant changed. */
function changeReporter(onChange: ((tenant: Tenant) => void) | undefined): (tenant: Tenant) => void {
  let previous: string | undefined;
  return (tenant) => {
    const { phase, compute, observedGeneration, endpoints, lastError, workflow } = tenant.status;
    const key = JSON.stringify([
      phase,
      compute,
      observedGeneration,
      tenant.generation,
      endpoints,
      lastError?.code,
      workflow?.state,
    ]);
    if (key === previous) return;
    previous = key;
    onChange?.(tenant);
  };
}
