/**
 * Read-only views of a tenant through the public API, for assertions: its conditions, its compute
 * executions with their histories, its phase changes, and the `fake` engine's id counter.
 */
import assert from 'node:assert/strict';
import type { LessorClient } from '../../src/api/client.js';
import type { ComputeExecution, ComputeExecutionWithHistory, Tenant } from '../../src/api/types.js';
import type { ConditionType } from '../../src/domain/tenant.js';
import { waitForPhase } from './wait.js';

export function condition(
  tenant: Tenant,
  type: ConditionType,
): { status: string; reason: string } | undefined {
  return tenant.status.conditions.find((c) => c.type === type);
}

export async function executionsOf(client: LessorClient, idOrName: string): Promise<ComputeExecution[]> {
  return [...(await client.tenantExecutions(idOrName, { limit: 100 })).items];
}

/** The tenant's one execution of `operation` (asserts there is exactly one), with its history. */
export async function onlyExecution(
  client: LessorClient,
  idOrName: string,
  operation: 'provision' | 'update' | 'delete' | 'suspend' | 'resume',
): Promise<ComputeExecutionWithHistory> {
  const matching = (await executionsOf(client, idOrName)).filter((e) => e.operation === operation);
  assert.equal(
    matching.length,
    1,
    `expected one ${operation} execution, got ${JSON.stringify(matching.map((e) => e.executionId))}`,
  );
  return client.getExecution(matching[0]!.executionId);
}

/** `pending→running→failed→…` of an execution, with the attempt on every entry after the first. */
export function historyPath(execution: ComputeExecutionWithHistory): string {
  return execution.history.map((h, i) => (i === 0 ? h.status : `${h.status}#${h.attempt}`)).join('→');
}

/** The expected history path of an execution that failed `failures` times, then ended `last`. */
export function expectedPath(failures: number, last: 'succeeded' | 'failed'): string {
  const steps = ['pending'];
  for (let attempt = 1; attempt <= failures; attempt++) steps.push(`running#${attempt}`, `failed#${attempt}`);
  if (last === 'succeeded') steps.push(`running#${failures + 1}`, `succeeded#${failures + 1}`);
  return steps.join('→');
}

/** Reasons of the tenant's phase changes, oldest first, as `to:reason`. */
export async function phaseChanges(client: LessorClient, idOrName: string): Promise<string[]> {
  const events = await client.tenantEvents(idOrName, { limit: 500 });
  return events.items.filter((e) => e.type === 'PhaseChanged').map((e) => `${String(e.toPhase)}:${e.reason}`);
}

/**
 * The fake engine's next id, seen from outside: a fresh tenant's volume id (`fake-vol-<n>`). The
 * fake numbers every volume and runtime it creates from one counter, so two probes bracket how many
 * resources were created in between — how a suite sees "no duplicate runtime" through the API.
 */
export async function fakeIdProbe(client: LessorClient, name: string): Promise<number> {
  const tenant = await client.createTenant({ name, spec: { provider: 'fake', config: {} } });
  const ready = await waitForPhase(client, tenant.id, 'ready', { timeoutMs: 30_000, failOn: ['failed'] });
  return fakeId(ready.status.resources.volumeId);
}

export function fakeId(id: string | undefined): number {
  const match = /^fake-(?:vol|rt)-(\d+)$/.exec(id ?? '');
  assert.ok(match, `not a fake resource id: ${String(id)}`);
  return Number(match[1]);
}
