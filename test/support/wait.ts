/**
 * Polling helpers for end-to-end suites: fast (20 ms) so tests finish as soon as the system does,
 * bounded so a stuck system fails with the last observed state instead of hanging.
 */
import { ApiError, type LessorClient } from '../../src/api/client.js';
import type { Tenant } from '../../src/api/types.js';
import type { Phase } from '../../src/domain/tenant.js';

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Thrown by a probe to end a wait at once (the awaited state can no longer come). */
export class StopWaiting extends Error {}

/**
 * Polls `probe` until it returns something other than undefined/false. Errors thrown by `probe`
 * (a server restarting, a database down) count as "not yet", except StopWaiting; the last one is reported on timeout.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(options.intervalMs ?? 20);
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}

export interface PhaseWaitOptions extends WaitOptions {
  /** Also require `observedGeneration === generation` (default true for `ready`). */
  readonly settled?: boolean;
  /** Phases that end the wait with an error at once (e.g. `failed` while waiting for `ready`). */
  readonly failOn?: readonly Phase[];
  /** Only accept a tenant at this generation or later. */
  readonly generation?: number;
}

/** Waits until the tenant is in one of `phases`; the error on timeout shows its last status. */
export async function waitForPhase(
  client: LessorClient,
  idOrName: string,
  phases: Phase | readonly Phase[],
  options: PhaseWaitOptions = {},
): Promise<Tenant> {
  const wanted: readonly Phase[] = typeof phases === 'string' ? [phases] : phases;
  let last: Tenant | undefined;
  try {
    return await waitFor(
      `tenant ${idOrName} to reach ${wanted.join('|')}`,
      async () => {
        const tenant = await client.getTenant(idOrName);
        last = tenant;
        const phase = tenant.status.phase;
        if (options.failOn?.includes(phase) && !wanted.includes(phase)) {
          throw new StopWaiting(`tenant ${idOrName} reached ${phase}: ${JSON.stringify(tenant.status)}`);
        }
        if (!wanted.includes(phase)) return undefined;
        if (options.generation !== undefined && tenant.generation < options.generation) return undefined;
        const settled = options.settled ?? phase === 'ready';
        if (settled && tenant.status.observedGeneration !== tenant.generation) return undefined;
        return tenant;
      },
      options,
    );
  } catch (error) {
    if (error instanceof StopWaiting) throw error;
    const detail = last
      ? `\nlast seen: phase=${last.status.phase} generation=${last.generation} status=${JSON.stringify(last.status)}`
      : '';
    throw new Error(`${(error as Error).message}${detail}`, { cause: error });
  }
}

/** Polls a tenant until `predicate` holds; returns it. */
export function waitForTenant(
  client: LessorClient,
  idOrName: string,
  what: string,
  predicate: (tenant: Tenant) => boolean,
  options: WaitOptions = {},
): Promise<Tenant> {
  return waitFor(
    `tenant ${idOrName}: ${what}`,
    async () => {
      const tenant = await client.getTenant(idOrName);
      return predicate(tenant) ? tenant : undefined;
    },
    options,
  );
}

/** The HTTP status of a failed client call (or undefined for network errors). */
export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiError ? error.status : undefined;
}
