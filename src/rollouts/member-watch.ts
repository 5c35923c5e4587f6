/**
 * How a changed member is doing, from its tenant as it is now (pure; the driver adds the clock).
 * A member is watched at a target generation — the one its change (or rollback) wrote:
 * - the tenant is gone, deleting or archived → `gone` (the member is skipped);
 * - `ready` with `observedGeneration` at or past the target → `ready`;
 * - `failed` by a run of the target generation or a later one → `failed`, with the tenant's last
 *   error (a failure of an earlier generation's run does not count: it predates the change);
 * - anything else → `working`.
 */
import type { Tenant } from '../domain/tenant.js';

export type MemberObservation =
  | { readonly kind: 'gone'; readonly reason: string }
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly error: { readonly code: string; readonly message: string } }
  | { readonly kind: 'working' };

/** The generation a tenant run id names (`<tenant>:<action>:g<n>[:r<k>]`), or 0. */
function runGeneration(runId: string | undefined): number {
  const match = runId === undefined ? null : /:g(\d+)(?::r\d+)?$/.exec(runId);
  return match ? Number(match[1]) : 0;
}

export function observeMember(
  tenant: { readonly status: Tenant['status'] } | undefined,
  target: number,
): MemberObservation {
  if (!tenant) return { kind: 'gone', reason: 'the tenant no longer exists' };
  const { phase, observedGeneration, workflow, lastError } = tenant.status;
  if (phase === 'deleting' || phase === 'archived') return { kind: 'gone', reason: `the tenant is ${phase}` };
  if (phase === 'ready' && observedGeneration >= target) return { kind: 'ready' };
  if (phase === 'failed' && runGeneration(workflow?.runId) >= target) {
    return {
      kind: 'failed',
      error: { code: lastError?.code ?? 'Failed', message: lastError?.message ?? 'the tenant failed' },
    };
  }
  return { kind: 'working' };
}
