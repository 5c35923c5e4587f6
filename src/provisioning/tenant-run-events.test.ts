/** Provisioning's run observer: which run changes become tenant events, and their shape. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunState } from '../domain/operations.js';
import type { TenantEventDraft } from '../domain/tenant-event.js';
import { tenantRunTags } from '../domain/tenant-run.js';
import type { WorkflowRun } from '../domain/workflow-run.js';
import { tenantRunEvents } from './tenant-run-events.js';

const TENANT = '01900000-0000-7000-8000-00000000a11c';

function run(overrides: Partial<WorkflowRun> = {}): WorkflowRun {
  return {
    runId: `${TENANT}:update:g3:r1`,
    workflow: 'update',
    tags: tenantRunTags({ tenantId: TENANT, generation: 3, configHash: 'h', triggerSource: 'retry' }),
    engine: 'embedded',
    state: 'running',
    attempt: 2,
    input: null,
    output: null,
    error: null,
    wakeAt: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
    ...overrides,
  };
}

async function eventsFor(
  changed: WorkflowRun,
  state: RunState,
): Promise<{ tenantId: string | null; event: TenantEventDraft }[]> {
  const appended: { tenantId: string | null; event: TenantEventDraft }[] = [];
  const observer = tenantRunEvents({
    appendEvent: async (tenantId, event) => void appended.push({ tenantId, event }),
  });
  await observer.runChanged({ run: { ...changed, state }, state });
  return appended;
}

const CASES: readonly { reason: string; state: RunState; run?: Partial<WorkflowRun>; events: number }[] = [
  { reason: 'a tenant run that starts backing off', state: 'backing-off', events: 1 },
  { reason: 'a tenant run that succeeded', state: 'succeeded', events: 1 },
  { reason: 'a tenant run that failed', state: 'failed', events: 1 },
  { reason: 'a tenant run that was cancelled', state: 'cancelled', events: 1 },
  { reason: 'a tenant run created', state: 'pending', events: 0 },
  { reason: 'a tenant run running', state: 'running', events: 0 },
  { reason: 'a tenant run waiting', state: 'waiting', events: 0 },
  {
    reason: 'a run of another subject',
    state: 'succeeded',
    run: { tags: { subject: `rollout:${TENANT}` } },
    events: 0,
  },
  { reason: 'a run of no subject', state: 'failed', run: { tags: {} }, events: 0 },
  {
    reason: 'a tenant-tagged run of another definition',
    state: 'failed',
    run: { workflow: 'roll' },
    events: 0,
  },
];

for (const { reason, state, run: overrides, events } of CASES) {
  test(`${reason}: ${events} event(s)`, async () => {
    assert.equal((await eventsFor(run(overrides), state)).length, events);
  });
}

test('the event has the shape the engines wrote before the observer existed', async () => {
  const [appended] = await eventsFor(run(), 'backing-off');
  const runId = `${TENANT}:update:g3:r1`;
  assert.deepEqual(appended, {
    tenantId: TENANT,
    event: {
      type: 'RunStateChanged',
      actor: `workflow:${runId}`,
      reason: 'RunBackingOff',
      message: `update run ${runId} is backing-off`,
      fromPhase: null,
      toPhase: null,
      generation: 3,
      runId,
      executionId: null,
      data: { runId, action: 'update', state: 'backing-off', attempt: 2 },
    },
  });
});

test('eventsFor offers the event runChanged writes; a change whose events were written writes none', async () => {
  const appended: TenantEventDraft[] = [];
  const observer = tenantRunEvents({ appendEvent: async (_tenantId, event) => void appended.push(event) });
  const change = { run: { ...run(), state: 'succeeded' }, state: 'succeeded' } as const;
  const [written] = await eventsFor(run(), 'succeeded');
  assert.deepEqual(observer.eventsFor?.(change), { tenantId: TENANT, drafts: [written!.event] });
  assert.equal(observer.eventsFor?.({ run: { ...run(), state: 'running' }, state: 'running' }), null);
  await observer.runChanged({ ...change, eventsWritten: true });
  assert.deepEqual(appended, []);
  await observer.runChanged({ ...change, eventsWritten: false });
  assert.deepEqual(appended, [written!.event]);
});
