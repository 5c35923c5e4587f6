/**
 * Invariants the reliability and end-to-end suites check after the dust settles, read straight from
 * the database (a store the test opens on it), never through the server under test:
 *
 * - every compute execution's history is a path EXECUTION_TRANSITIONS allows, ends in the row's
 *   status, and counts attempts up by one per retry;
 * - callbacks applied once: every status change (running/succeeded/failed at an attempt) has exactly
 *   one outbox row, every row is delivered (none pending or dead), and no workflow saw a settled
 *   attempt resolved with anything but that one callback (journal + `workflow_promises`);
 * - every phase change in the tenant events is allowed by the phase table, and each journal step
 *   name appears once per run (replay never re-ran a step under a new entry).
 */
import assert from 'node:assert/strict';
import type { CallbackRecord } from '../../src/domain/compute-callback.js';
import { isValidExecutionPath, type ComputeExecution } from '../../src/domain/compute-execution.js';
import { canTransition } from '../../src/domain/phase-machine.js';
import { tenantSubject } from '../../src/domain/tenant-run.js';
import type { Store } from '../../src/store/store.js';
import { waitFor } from './wait.js';

export interface InvariantFigures {
  readonly executions: number;
  readonly historyRows: number;
  readonly callbacks: number;
  readonly runs: number;
  readonly phaseEvents: number;
}

async function executionsOf(store: Store, tenantId: string): Promise<ComputeExecution[]> {
  const all: ComputeExecution[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.executions.list({ tenantId, limit: 200, cursor });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

async function allCallbacks(store: Store, tenantIds: ReadonlySet<string>): Promise<CallbackRecord[]> {
  const all: CallbackRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.callbacks.list({ limit: 500, cursor });
    all.push(...page.items.filter((c) => tenantIds.has(c.tenantId)));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

/** The attempt each history entry carries: 1 up to the first retry, then one more per `running`. */
function expectedAttempts(statuses: readonly string[]): number[] {
  let attempt = 0;
  return statuses.map((status) => (status === 'running' ? ++attempt : Math.max(attempt, 1)));
}

/** History of every execution of the tenants: valid path, consistent with the row. */
export async function assertExecutionHistories(
  store: Store,
  tenantIds: readonly string[],
): Promise<{ executions: number; historyRows: number }> {
  let executions = 0;
  let historyRows = 0;
  for (const tenantId of tenantIds) {
    for (const execution of await executionsOf(store, tenantId)) {
      const history = await store.executions.history(execution.executionId);
      const statuses = history.map((h) => h.status);
      const where = `execution ${execution.executionId} history ${statuses.join('→')}`;
      assert.ok(isValidExecutionPath(statuses), `invalid path: ${where}`);
      assert.equal(statuses.at(-1), execution.status, `last history status differs from the row: ${where}`);
      assert.deepEqual(
        history.map((h) => h.attempt),
        expectedAttempts(statuses),
        `attempt numbering: ${where} (${JSON.stringify(history.map((h) => [h.status, h.attempt]))})`,
      );
      assert.equal(execution.attempt, history.at(-1)!.attempt, `row attempt differs from history: ${where}`);
      executions += 1;
      historyRows += history.length;
    }
  }
  return { executions, historyRows };
}

/** Callbacks applied once (see the file comment). Waits up to `timeoutMs` for the outbox to drain. */
export async function assertCallbacksAppliedOnce(
  store: Store,
  tenantIds: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<{ callbacks: number; runs: number }> {
  const ids = new Set(tenantIds);
  const callbacks = await waitFor(
    'the callback outbox to drain',
    async () => {
      const rows = await allCallbacks(store, ids);
      return rows.every((c) => c.state !== 'pending') ? rows : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 100 },
  );
  const dead = callbacks.filter((c) => c.state === 'dead');
  assert.deepEqual(
    dead.map((c) => `${c.executionId}#${c.payload.attempt} ${String(c.lastError)}`),
    [],
    'dead callbacks',
  );

  const byKey = new Map<string, CallbackRecord[]>();
  for (const callback of callbacks) {
    const key = `${callback.executionId}|${callback.payload.status}|${callback.payload.attempt}`;
    byKey.set(key, [...(byKey.get(key) ?? []), callback]);
  }
  let runs = 0;
  for (const tenantId of tenantIds) {
    for (const execution of await executionsOf(store, tenantId)) {
      const changes = (await store.executions.history(execution.executionId)).filter(
        (h) => h.status !== 'pending',
      );
      for (const change of changes) {
        const key = `${execution.executionId}|${change.status}|${change.attempt}`;
        assert.equal(byKey.get(key)?.length ?? 0, 1, `expected exactly one callback for ${key}`);
        byKey.delete(key);
      }
    }
    for (const run of await store.runs.listBySubject(tenantSubject(tenantId), 1000)) {
      await assertRunSawCallbacksOnce(store, run.runId, callbacks);
      runs += 1;
    }
  }
  assert.deepEqual([...byKey.keys()], [], 'callbacks without a matching execution status change');
  return { callbacks: callbacks.length, runs };
}

/** In one run: unique step names, and every resolved wait got exactly the callback of its attempt. */
async function assertRunSawCallbacksOnce(
  store: Store,
  runId: string,
  callbacks: readonly CallbackRecord[],
): Promise<void> {
  const journal = await store.steps.list(runId);
  const names = journal.filter((s) => s.kind !== 'promise').map((s) => `${s.kind}:${s.name}`);
  assert.equal(new Set(names).size, names.length, `run ${runId} journaled a step twice: ${names.join(', ')}`);
  const resolvedKeys = new Set<string>();
  for (const entry of journal.filter((s) => s.kind === 'promise')) {
    const result = entry.result as {
      resolved?: boolean;
      value?: { executionId?: string; attempt?: number; status?: string };
    } | null;
    if (result?.resolved !== true) continue;
    const value = result.value ?? {};
    assert.ok(!resolvedKeys.has(entry.name), `promise ${entry.name} resolved twice in ${runId}`);
    const matching = callbacks.filter(
      (c) =>
        c.workflowRunId === runId &&
        c.executionId === value.executionId &&
        c.payload.attempt === value.attempt &&
        c.payload.status === value.status,
    );
    assert.equal(
      matching.length,
      1,
      `run ${runId} resolved ${entry.name} with ${JSON.stringify(value)}: expected one matching callback`,
    );
    assert.equal(
      entry.name,
      `execution:${String(value.executionId)}#${String(value.attempt)}`,
      `run ${runId}: a wait got another attempt's callback`,
    );
    resolvedKeys.add(entry.name);
    const stored = await store.steps.getPromise(runId, entry.name);
    if (stored)
      assert.deepEqual(
        pick(stored.value),
        pick(value),
        `workflow_promises differs from the journal for ${entry.name}`,
      );
  }
}

function pick(value: unknown): unknown {
  const v = (value ?? {}) as Record<string, unknown>;
  return { executionId: v.executionId, attempt: v.attempt, status: v.status };
}

/** Every PhaseChanged event of the tenants follows the phase table. */
export async function assertPhaseEvents(store: Store, tenantIds: readonly string[]): Promise<number> {
  let count = 0;
  for (const tenantId of tenantIds) {
    const events = await store.events.listByTenant(tenantId, { limit: 10_000 });
    for (const event of events.filter((e) => e.type === 'PhaseChanged')) {
      assert.ok(
        event.fromPhase && event.toPhase && canTransition(event.fromPhase, event.toPhase),
        `tenant ${tenantId}: illegal transition ${String(event.fromPhase)}→${String(event.toPhase)} (${event.reason})`,
      );
      count += 1;
    }
  }
  return count;
}

/** All three checks; returns the figures for the suite's closing line. */
export async function assertStoreInvariants(
  store: Store,
  tenantIds: readonly string[],
): Promise<InvariantFigures> {
  const histories = await assertExecutionHistories(store, tenantIds);
  const callbacks = await assertCallbacksAppliedOnce(store, tenantIds);
  const phaseEvents = await assertPhaseEvents(store, tenantIds);
  return { ...histories, ...callbacks, phaseEvents };
}

/**
 * One runtime per tenant, checked against the engine: `observed` maps tenant id → live runtimes
 * (process groups, containers). Tenants expected to run have exactly one, the others none, and
 * nothing runs for a tenant the suite does not know (an orphan).
 */
export function assertRuntimes(
  observed: ReadonlyMap<string, readonly unknown[]>,
  expected: ReadonlyMap<string, 0 | 1>,
): void {
  const problems: string[] = [];
  for (const [tenantId, count] of expected) {
    const actual = observed.get(tenantId)?.length ?? 0;
    if (actual !== count)
      problems.push(
        `tenant ${tenantId}: ${actual} runtime(s), expected ${count} (${JSON.stringify(observed.get(tenantId) ?? [])})`,
      );
  }
  for (const [tenantId, runtimes] of observed) {
    if (!expected.has(tenantId) && runtimes.length > 0)
      problems.push(`orphan runtime(s) of unknown tenant ${tenantId}: ${JSON.stringify(runtimes)}`);
  }
  assert.deepEqual(problems, [], 'runtimes seen by the engine');
}
