/** A tenant run record for tests that decide on runs without a store or an engine. */
import type { RunState, WorkflowAction } from '../operations.js';
import { tenantRunTags, type TenantRun } from '../tenant-run.js';
import type { TriggerSource } from '../workflow-run.js';

export interface TenantRunFixture {
  readonly tenantId: string;
  readonly action: WorkflowAction;
  readonly generation: number;
  readonly state: RunState;
  readonly runId?: string;
  readonly triggerSource?: TriggerSource;
  readonly at?: string;
  readonly finishedAt?: string | null;
}

/** The run `<tenantId>:<action>:g<generation>` with config hash `h`, created and updated at `at`. */
export function tenantRunFixture(fixture: TenantRunFixture): TenantRun {
  const { tenantId, action, generation, state } = fixture;
  const triggerSource = fixture.triggerSource ?? 'controller';
  const at = fixture.at ?? '2026-01-01T00:00:00.000Z';
  return {
    runId: fixture.runId ?? `${tenantId}:${action}:g${generation}`,
    workflow: action,
    tags: tenantRunTags({ tenantId, generation, configHash: 'h', triggerSource }),
    tenantId,
    action,
    engine: 'embedded',
    state,
    attempt: 1,
    triggerSource,
    generation,
    configHash: 'h',
    input: {},
    output: null,
    error: null,
    wakeAt: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    createdAt: at,
    updatedAt: at,
    finishedAt: fixture.finishedAt ?? null,
  };
}
