/**
 * Reliability (test/README.md): every fault of the `fake` provider × every operation (provision,
 * update, delete) produces the declared behaviour — table-driven, one tenant per cell, all cells at
 * once against one real `lessor serve`. A fault is aimed at one operation with `failOperations`; the
 * cell's tenant is first brought to where that operation happens (created; ready then PATCHed;
 * ready then DELETEd).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LessorClient } from '../../src/api/client.js';
import type { Tenant } from '../../src/api/types.js';
import { backends } from '../../src/store/testing/test-databases.js';
import { deploy, withLogs, type Deployment } from '../support/deployment.js';
import { engines } from '../support/engines.js';
import { assertStoreInvariants } from '../support/invariants.js';
import {
  condition,
  expectedPath,
  historyPath,
  onlyExecution,
  phaseChanges,
} from '../support/tenant-views.js';
import { waitForPhase } from '../support/wait.js';

type Operation = 'provision' | 'update' | 'delete';
const OPERATIONS: readonly Operation[] = ['provision', 'update', 'delete'];
const FAST = { initialBackoffMs: 20, maxBackoffMs: 50, maxAttempts: 4 };

interface Expectation {
  /** Failed attempts before the execution ended. */
  readonly failures: number;
  readonly ends: 'succeeded' | 'failed';
  readonly code?: string;
  readonly check?: (tenant: Tenant, client: LessorClient) => Promise<void> | void;
}

interface Row {
  readonly fault: string;
  readonly reason: string;
  readonly faults: Record<string, unknown>;
  readonly policy?: Record<string, unknown>;
  /** The first retry may not start earlier than this after the first failure. */
  readonly minRetryGapMs?: number;
  readonly expect: (operation: Operation) => Expectation;
}

const manual = (tenant: Tenant): void =>
  assert.equal(condition(tenant, 'Degraded')?.reason, 'ManualInterventionRequired');

const ROWS: readonly Row[] = [
  {
    fault: 'fail-2',
    reason: 'retriable twice, then fine',
    faults: { failTimes: 2 },
    expect: () => ({ failures: 2, ends: 'succeeded' }),
  },
  {
    fault: 'exhausted',
    reason: 'retriable every time: maxAttempts, then failed',
    faults: { failTimes: 99 },
    expect: () => ({ failures: 4, ends: 'failed', code: 'PROVIDER_TEMPORARILY_UNAVAILABLE' }),
  },
  {
    fault: 'non-retriable',
    reason: 'no second attempt',
    faults: { nonRetriable: true },
    expect: () => ({ failures: 1, ends: 'failed', code: 'INVALID_CONFIG' }),
  },
  {
    fault: 'hang',
    reason: 'each attempt times out at timeoutMs',
    faults: { hang: true },
    policy: { timeoutMs: 250, maxAttempts: 2 },
    expect: () => ({ failures: 2, ends: 'failed', code: 'PROVIDER_TIMEOUT' }),
  },
  {
    fault: 'ambiguous',
    reason: 'work done, answer lost once',
    faults: { ambiguous: true },
    expect: () => ({ failures: 1, ends: 'succeeded' }),
  },
  {
    fault: 'partial+rollback',
    reason: 'provision only: rolled back and failed; other operations are not affected',
    faults: { partial: true },
    policy: { onError: { PARTIAL_FAILURE: 'rollback' } },
    expect: (op) =>
      op === 'provision'
        ? {
            failures: 1,
            ends: 'failed',
            code: 'PARTIAL_FAILURE',
            check: async (t, c) =>
              assert.ok((await phaseChanges(c, t.id)).includes('failed:RolledBack:PARTIAL_FAILURE')),
          }
        : { failures: 0, ends: 'succeeded' },
  },
  {
    fault: 'rate-limited',
    reason: 'retried after retryAfterMs',
    faults: { rateLimitedMs: 300 },
    minRetryGapMs: 300,
    expect: () => ({ failures: 1, ends: 'succeeded' }),
  },
  {
    fault: 'permission-denied',
    reason: 'manual intervention',
    faults: { failTimes: 9, failCode: 'PERMISSION_DENIED' },
    expect: () => ({ failures: 1, ends: 'failed', code: 'PERMISSION_DENIED', check: manual }),
  },
  {
    fault: 'quota-exceeded',
    reason: 'manual intervention',
    faults: { failTimes: 9, failCode: 'QUOTA_EXCEEDED' },
    expect: () => ({ failures: 1, ends: 'failed', code: 'QUOTA_EXCEEDED', check: manual }),
  },
  {
    fault: 'conflict→pause',
    reason: 'onError pause: failed + Paused',
    faults: { failTimes: 9, failCode: 'CONFLICT' },
    policy: { onError: { CONFLICT: 'pause' } },
    expect: () => ({
      failures: 1,
      ends: 'failed',
      code: 'CONFLICT',
      check: (t) => assert.equal(condition(t, 'Paused')?.reason, 'PausedOnError'),
    }),
  },
];

const WORKING: Readonly<Record<Operation, 'ready' | 'archived'>> = {
  provision: 'ready',
  update: 'ready',
  delete: 'archived',
};

describe('fault matrix: fault × operation → declared behaviour', () => {
  const prefix = `rel-fm${randomBytes(3).toString('hex')}`;
  const tenantIds: string[] = [];
  let d: Deployment | undefined;

  before(async () => {
    d = await deploy({ backend: backends()[0]!, engine: engines()[0]!, providers: { fake: {} } });
  });
  after(() => d?.close());

  /** Brings a cell's tenant to the moment its operation runs with the fault armed, then to rest. */
  async function runCell(row: Row, operation: Operation, index: number): Promise<string> {
    const client = d!.client;
    const faults = { ...row.faults, failOperations: [operation] };
    const spec = { config: { faults }, retryPolicy: { ...FAST, ...row.policy } };
    const tenant = await client.createTenant({ name: `${prefix}-c${index}`, spec });
    tenantIds.push(tenant.id);
    if (operation !== 'provision')
      await waitForPhase(client, tenant.id, 'ready', { timeoutMs: 60_000, failOn: ['failed'] });
    if (operation === 'update')
      await client.patchTenant(tenant.id, { spec: { config: { env: { V: '2' } } } });
    if (operation === 'delete') await client.deleteTenant(tenant.id);
    const expectation = row.expect(operation);
    const phase = expectation.ends === 'succeeded' ? WORKING[operation] : 'failed';
    const settled = await waitForPhase(client, tenant.id, phase, {
      generation: operation === 'update' ? 2 : 1,
      timeoutMs: 60_000,
    });
    const execution = await onlyExecution(client, tenant.id, operation);
    const where = `${row.fault} × ${operation} (${row.reason})`;
    assert.equal(historyPath(execution), expectedPath(expectation.failures, expectation.ends), where);
    if (row.minRetryGapMs !== undefined) {
      const gap = Date.parse(execution.history[3]!.at) - Date.parse(execution.history[2]!.at);
      assert.ok(gap >= row.minRetryGapMs, `${where}: retried after ${gap} ms`);
    }
    if (expectation.code) assert.equal(settled.status.lastError?.code, expectation.code, where);
    await expectation.check?.(settled, client);
    return `${row.fault}×${operation}`;
  }

  test('every cell behaves as declared', () =>
    withLogs(d, async () => {
      const started = Date.now();
      const cells = ROWS.flatMap((row) => OPERATIONS.map((operation) => ({ row, operation })));
      const results = await Promise.allSettled(
        cells.map(({ row, operation }, i) => runCell(row, operation, i)),
      );
      const failures = results.flatMap((r, i) =>
        r.status === 'rejected'
          ? [`${cells[i]!.row.fault}×${cells[i]!.operation}: ${(r.reason as Error).message}`]
          : [],
      );
      assert.deepEqual(failures, [], 'cells that did not behave as declared');
      const figures = await assertStoreInvariants(d!.store, tenantIds);
      console.log(
        `reliability: fault-matrix faults=${ROWS.length} operations=${OPERATIONS.length} cells=${cells.length} ` +
          `executions=${figures.executions} callbacks=${figures.callbacks} durationMs=${Date.now() - started}`,
      );
    }));
});
