/**
 * The crash sweep's workload: a random (seeded) script per tenant — create, 0–2 spec replacements (PUT),
 * maybe a delete — sent through the API the way a careful client would while the server keeps
 * dying: a request that gets no answer (connection refused, reset, 503) is sent again until it is
 * accepted; creates carry an Idempotency-Key and fall back to a lookup by name (a create whose
 * answer was lost). `expected` says where each tenant must end up.
 */
import { ApiError, type LessorClient } from '../../src/api/client.js';
import type { Tenant } from '../../src/api/types.js';
import type { ProcessTenantOptions, ProcessWorld } from './process-runtimes.js';
import { sleep } from './wait.js';

export type Rng = () => number;

/** mulberry32: small, seedable, good enough to pick timings and scripts. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const between = (rng: Rng, min: number, max: number): number =>
  Math.floor(min + rng() * (max - min + 1));

export interface TenantScript {
  readonly name: string;
  readonly versions: readonly ProcessTenantOptions[];
  readonly remove: boolean;
  /** Pause before each step after the create, ms. */
  readonly pausesMs: readonly number[];
}

export interface SweepStats {
  operations: number;
  resent: number;
  /** Aborted when the sweep gives up: every script stops resending. */
  readonly signal: AbortSignal;
}

export interface SweepOutcome {
  readonly script: TenantScript;
  readonly tenant: Tenant;
  readonly expectedPhase: 'ready' | 'archived';
  readonly expectedMode: string;
}

export function planScripts(rng: Rng, prefix: string, count: number): TenantScript[] {
  return Array.from({ length: count }, (_, i) => {
    const updates = between(rng, 0, 2);
    const versions = Array.from({ length: updates + 1 }, (_, v) => ({
      mode: `v${v}`,
      startDelayS: [0, 0, 1, 2][between(rng, 0, 3)],
      slowHealth: rng() < 0.25,
      ignoreTerm: rng() < 0.25,
    }));
    return {
      name: `${prefix}-t${i}`,
      versions,
      remove: rng() < 0.4,
      pausesMs: Array.from({ length: updates + 1 }, () => between(rng, 0, 2_500)),
    };
  });
}

/** Sends one request until the server accepts it (answers 2xx). */
async function untilAccepted<T>(
  stats: SweepStats,
  send: () => Promise<T>,
  onConflict?: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + 240_000;
  for (let first = true; ; first = false) {
    if (!first) stats.resent += 1;
    stats.signal.throwIfAborted();
    try {
      const result = await send();
      stats.operations += 1;
      return result;
    } catch (error) {
      const conflict = error instanceof ApiError && error.status === 409 && onConflict !== undefined;
      if (conflict) {
        const found = await onConflict().catch(() => undefined);
        if (found !== undefined) {
          stats.operations += 1;
          return found;
        }
      }
      // 503: the server is restarting; an in-flight Idempotency-Key: the claim of a request whose
      // server was killed, free again once its lease ran out (the server says Retry-After); a 409
      // whose look-up failed: the server was killed between the two, so ask again.
      const transient =
        !(error instanceof ApiError) ||
        conflict ||
        error.status === 503 ||
        error.problem.type === 'urn:lessor:problem:idempotency-key-in-flight';
      if (!transient || Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

/** Runs one tenant's script through `client` (a getter: the server object survives restarts). */
export async function runScript(
  client: LessorClient,
  world: ProcessWorld,
  script: TenantScript,
  stats: SweepStats,
): Promise<SweepOutcome> {
  const key = `sweep-${script.name}`;
  const first = script.versions[0]!;
  let tenant = await untilAccepted(
    stats,
    () =>
      client.createTenant(
        { name: script.name, spec: { config: world.config(first) } },
        { idempotencyKey: key },
      ),
    () => client.getTenant(script.name),
  );
  for (let v = 1; v < script.versions.length; v++) {
    await sleep(script.pausesMs[v - 1] ?? 0);
    const config = world.config(script.versions[v]);
    tenant = await untilAccepted(stats, () => client.replaceSpec(tenant.id, { config }));
  }
  if (script.remove) {
    await sleep(script.pausesMs.at(-1) ?? 0);
    tenant = (await untilAccepted(stats, () => client.deleteTenant(tenant.id))) ?? tenant;
  }
  return {
    script,
    tenant,
    expectedPhase: script.remove ? 'archived' : 'ready',
    expectedMode: script.versions.at(-1)!.mode ?? 'one',
  };
}
