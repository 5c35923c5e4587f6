/** Conformance: workflow runs (idempotent start, tags, guarded updates, leases) and the step journal. */
import assert from 'node:assert/strict';
import { silentLogger } from '../../domain/logger.js';
import type { TenantEventDraft } from '../../domain/tenant-event.js';
import { asTenantRun } from '../../domain/tenant-run.js';
import type { WorkflowRun } from '../../domain/workflow-run.js';
import { runStateEvent, tenantRunEvents } from '../../provisioning/tenant-run-events.js';
import type { RunObserver } from '../../workflow/run-observer.js';
import { RunRecords } from '../../workflow/run-records.js';
import { createStore } from '../create-store.js';
import type { NewWorkflowRun, Store } from '../store.js';
import { finishedStep, leasedTenantRun, specOf, unique, type Conformance } from './harness.js';

/** A run of no tenant at all: runs are generic, a tag names what they work on. */
async function newRun(_store: Store, overrides: Partial<NewWorkflowRun> = {}): Promise<NewWorkflowRun> {
  const subject = unique('counter');
  return {
    runId: `${subject}:count`,
    workflow: 'count',
    tags: { subject, purpose: 'test' },
    engine: 'embedded',
    input: { image: 'busybox' },
    ...overrides,
  };
}

/**
 * A tenant's provision run, leased to `me`, and provisioning's observer over `store`, which
 * records what it appends itself (`appended`) besides appending it.
 */
async function tenantRun(
  store: Store,
): Promise<{ run: WorkflowRun; observed: { observer: RunObserver; appended: TenantEventDraft[] } }> {
  const { run } = await leasedTenantRun(store);
  const appended: TenantEventDraft[] = [];
  const observer = tenantRunEvents({
    appendEvent: async (tenantId, event) => {
      appended.push(event);
      await store.appendEvent(tenantId, event);
    },
  });
  return { run, observed: { observer, appended } };
}

/** The tenant's latest event as a draft (without its seq, stream and time). */
async function lastEvent(store: Store, run: WorkflowRun): Promise<TenantEventDraft> {
  const tenantId = run.tags.subject!.slice('tenant:'.length);
  const events = await store.events.listByTenant(tenantId, { limit: 100 });
  const { seq: _seq, tenantId: _tenant, at: _at, ...draft } = events.at(-1)!;
  return draft;
}

export function workflowRuns(c: Conformance): void {
  c.test('concurrent createOrGet of one run id: one run, one creator', async () => {
    const run = await newRun(c.store());
    const results = await Promise.all(Array.from({ length: 5 }, () => c.store().runs.createOrGet(run)));
    assert.equal(results.filter((r) => r.created).length, 1);
    for (const r of results) assert.deepEqual(r.run, results[0]!.run);
    const stored = results[0]!.run;
    assert.deepEqual(
      [stored.state, stored.workflow, stored.tags, stored.input],
      ['pending', 'count', run.tags, { image: 'busybox' }],
    );
    assert.equal(typeof stored.wakeAt, 'number');
  });

  c.test(
    'listBySubject finds the runs of one subject tag, newest first; untagged runs are fine',
    async () => {
      const store = c.store();
      const base = await newRun(store);
      const subject = base.tags.subject!;
      // Ids that sort as they are created: runs made in the same millisecond order by id.
      const first = { ...base, runId: `${subject}:1` };
      await store.runs.createOrGet(first);
      await store.runs.createOrGet({ ...first, runId: `${subject}:2`, workflow: 'other' });
      await store.runs.createOrGet(await newRun(store));
      const bare = (await store.runs.createOrGet({ ...(await newRun(store)), tags: {} })).run;
      assert.deepEqual(bare.tags, {});
      assert.deepEqual(
        (await store.runs.listBySubject(subject, 10)).map((r) => [r.runId, r.workflow]),
        [
          [`${subject}:2`, 'other'],
          [first.runId, 'count'],
        ],
      );
      assert.deepEqual(
        (await store.runs.listBySubject(subject, 1)).map((r) => r.runId),
        [`${subject}:2`],
      );
    },
  );

  c.test(
    'getWithRuns answers what get and listBySubject answer: the tenant by id and its runs, newest first',
    async () => {
      const store = c.store();
      const { tenantId, run } = await leasedTenantRun(store);
      const subject = run.tags.subject!;
      // Every kind of column a run has, set: JSON output and error, a wake time, a lease, an end.
      const ended = await store.runs.update(
        run.runId,
        { state: 'failed', output: { a: [1, 'two'] }, error: { kind: 'x', n: 2 }, finishedAt: 'then' },
        { leaseOwner: 'me' },
      );
      assert.ok(ended);
      const retry = { ...run, runId: `${tenantId}:provision:g1:r2`, input: { image: 'busybox' } };
      await store.runs.createOrGet({ ...retry, lease: { owner: 'me', expiresAt: 2 ** 40 } });
      await store.runs.update(retry.runId, { wakeAt: 2 ** 41 + 1 }, { leaseOwner: 'me' });
      await store.runs.createOrGet(await newRun(store)); // another subject's run
      const read = await store.tenants.getWithRuns(tenantId, 100);
      assert.deepEqual(read, {
        tenant: await store.tenants.get(tenantId),
        runs: await store.runs.listBySubject(subject, 100),
      });
      assert.deepEqual(
        read.runs.map((r) => r.runId),
        [retry.runId, run.runId],
      );
      assert.deepEqual(
        (await store.tenants.getWithRuns(tenantId, 1))?.runs.map((r) => r.runId),
        [retry.runId],
      );
      const alone = await store.tenants.create({ name: unique('alone'), spec: specOf(), actor: 'test' });
      assert.deepEqual(await store.tenants.getWithRuns(alone.id, 100), {
        tenant: await store.tenants.get(alone.id),
        runs: [],
      });
      assert.equal(await store.tenants.getWithRuns(alone.name, 100), undefined, 'by id only');
      assert.equal(await store.tenants.getWithRuns('018f0000-0000-7000-8000-000000000000', 100), undefined);
    },
  );

  c.test('update honours the lease-owner and expected-state guards', async () => {
    const store = c.store();
    const { run } = await store.runs.createOrGet(await newRun(store));
    assert.equal(
      await store.runs.update(run.runId, { state: 'running' }, { expectedStates: ['waiting'] }),
      undefined,
    );
    const running = await store.runs.update(
      run.runId,
      { state: 'running', leaseOwner: 'me', leaseExpiresAt: 1 },
      { expectedStates: ['pending'] },
    );
    assert.equal(running?.state, 'running');
    assert.equal(await store.runs.update(run.runId, { state: 'failed' }, { leaseOwner: 'you' }), undefined);
    const done = await store.runs.update(
      run.runId,
      { state: 'succeeded', output: { ok: 1 }, finishedAt: 'now' },
      { leaseOwner: 'me' },
    );
    assert.deepEqual([done?.state, done?.output, done?.finishedAt], ['succeeded', { ok: 1 }, 'now']);
    assert.deepEqual(
      (await store.runs.listBySubject(run.tags.subject!, 10)).map((r) => [r.runId, r.state]),
      [[run.runId, 'succeeded']],
    );
  });

  c.test("a run's end takes its journal entries and the observer's event with it (recordEnd)", async () => {
    const store = c.store();
    const { run, observed } = await tenantRun(store);
    const records = new RunRecords(store.runs, observed.observer, silentLogger, Date.now);
    const steps = [finishedStep(run.runId, 1), finishedStep(run.runId, 2)];
    const options = { leaseOwner: 'me', attempt: 2, known: run, steps };
    const ended = await records.end(run.runId, { state: 'succeeded', output: { ok: 1 } }, options);
    assert.equal(ended.journaled, true);
    assert.deepEqual([ended.run?.state, ended.run?.attempt, ended.run?.output], ['succeeded', 2, { ok: 1 }]);
    assert.deepEqual(
      (await store.steps.list(run.runId)).map((s) => [s.seq, s.status]),
      [
        [1, 'completed'],
        [2, 'completed'],
      ],
    );
    // Written with the end, not appended by the observer afterwards; the same event it would write.
    assert.deepEqual(observed.appended, []);
    assert.deepEqual(await lastEvent(store, run), runStateEvent(asTenantRun(ended.run!)!, 'succeeded'));
  });

  c.test(
    'recordEnd: an event built for another attempt is left to the observer, which writes the right one',
    async () => {
      const store = c.store();
      const { run, observed } = await tenantRun(store);
      const records = new RunRecords(store.runs, observed.observer, silentLogger, Date.now);
      // The caller believes the run is in attempt 5; the row says 1 and the end does not set it.
      const known = { ...run, attempt: 5 };
      const ended = await records.end(run.runId, { state: 'succeeded', output: null }, { known, steps: [] });
      assert.equal(ended.run?.attempt, 1);
      const expected = runStateEvent(asTenantRun(ended.run)!, 'succeeded');
      assert.deepEqual(observed.appended, [expected]);
      assert.deepEqual(await lastEvent(store, run), expected);
      const tenantId = run.tags.subject!.slice('tenant:'.length);
      assert.equal((await store.events.listByTenant(tenantId, { limit: 100 })).length, 2);
    },
  );

  c.test('recordEnd: a journal entry stored already, or a guard that fails, ends nothing', async () => {
    const store = c.store();
    const { run, observed } = await tenantRun(store);
    const records = new RunRecords(store.runs, observed.observer, silentLogger, Date.now);
    const outcome = { state: 'succeeded', output: null } as const;
    // Another owner journaled seq 1 already: nothing is ended, the entry stays theirs.
    await store.steps.record({ ...finishedStep(run.runId, 1), startedAt: 'another owner' });
    const conflicted = await records.end(run.runId, outcome, {
      leaseOwner: 'me',
      known: run,
      steps: [finishedStep(run.runId, 1)],
    });
    assert.deepEqual(conflicted, { run: undefined, journaled: false });
    assert.deepEqual(
      (await store.steps.list(run.runId)).map((s) => s.startedAt),
      ['another owner'],
    );
    // Not the lease holder: nothing is ended, and its entries are not written either.
    const refused = await records.end(run.runId, outcome, {
      leaseOwner: 'you',
      known: run,
      steps: [finishedStep(run.runId, 2)],
    });
    assert.deepEqual(refused, { run: undefined, journaled: true });
    assert.deepEqual(
      (await store.steps.list(run.runId)).map((s) => s.seq),
      [1],
    );
    assert.equal((await store.runs.get(run.runId))?.state, 'pending');
    const tenantId = run.tags.subject!.slice('tenant:'.length);
    assert.deepEqual(
      (await store.events.listByTenant(tenantId, { limit: 100 })).map((e) => e.type),
      ['Created'],
    );
    assert.deepEqual(observed.appended, []);
  });

  c.test(
    'steps: a started and a finished record are write-once per seq; finish completes; promises keep the first value',
    async () => {
      const store = c.store();
      const { run } = await store.runs.createOrGet(await newRun(store));
      const startedAt = new Date().toISOString();
      const started = {
        status: 'started',
        result: null,
        error: null,
        finishedAt: null,
        durationMs: null,
      } as const;
      const first = await store.steps.record({
        runId: run.runId,
        seq: 1,
        name: 'validate',
        kind: 'step',
        startedAt,
        ...started,
      });
      const again = await store.steps.record({
        runId: run.runId,
        seq: 1,
        name: 'other',
        kind: 'sleep',
        startedAt: 'later',
        ...started,
      });
      assert.deepEqual(again, first);
      await store.steps.finish(run.runId, 1, {
        status: 'completed',
        result: { n: 1 },
        finishedAt: startedAt,
        durationMs: 12,
      });
      const recorded = {
        runId: run.runId,
        seq: 2,
        name: 'compute',
        kind: 'step' as const,
        status: 'failed' as const,
        result: null,
        error: { code: 'X' },
        startedAt,
        finishedAt: startedAt,
        durationMs: 3,
      };
      assert.deepEqual(await store.steps.record(recorded), recorded);
      assert.deepEqual(await store.steps.record({ ...recorded, name: 'changed' }), recorded);
      const steps = await store.steps.list(run.runId);
      assert.deepEqual(
        steps.map((s) => [s.seq, s.name, s.status, s.durationMs]),
        [
          [1, 'validate', 'completed', 12],
          [2, 'compute', 'failed', 3],
        ],
      );
      assert.deepEqual(steps[0]?.result, { n: 1 });

      // Several entries in one write: new ones stored, an existing one returned as it was.
      const batch = [3, 4].map((seq) => ({ ...recorded, seq, name: `batch#${seq}`, error: null }));
      assert.deepEqual(await store.steps.recordAll([{ ...recorded, name: 'changed' }, ...batch]), [
        recorded,
        ...batch,
      ]);
      assert.deepEqual(
        (await store.steps.list(run.runId)).map((s) => [s.seq, s.name]),
        [
          [1, 'validate'],
          [2, 'compute'],
          [3, 'batch#3'],
          [4, 'batch#4'],
        ],
      );

      assert.equal(await store.steps.resolvePromise(run.runId, 'p', { v: 1 }, 't1'), true);
      assert.equal(await store.steps.resolvePromise(run.runId, 'p', { v: 2 }, 't2'), false);
      assert.deepEqual(await store.steps.getPromise(run.runId, 'p'), { value: { v: 1 }, resolvedAt: 't1' });
      const racers = await Promise.all(
        [1, 2, 3, 4].map((v) => store.steps.resolvePromise(run.runId, 'race', v, 't')),
      );
      assert.equal(racers.filter(Boolean).length, 1);
      assert.equal(await store.steps.getPromise(run.runId, 'missing'), undefined);
    },
  );
}

/** Lease tests claim every due run in the database: this module gets a database of its own. */
export function workflowRunLeases(c: Conformance): void {
  c.test('claimDue leases due, unleased runs and takes over expired leases', async () => {
    const store = c.store();
    const due = (await store.runs.createOrGet(await newRun(store))).run;
    const future = (await store.runs.createOrGet(await newRun(store))).run;
    const noWake = (await store.runs.createOrGet(await newRun(store))).run;
    const finished = (await store.runs.createOrGet(await newRun(store))).run;
    const now = Date.now();
    await store.runs.update(future.runId, { wakeAt: now + 60_000 });
    await store.runs.update(noWake.runId, { wakeAt: null });
    await store.runs.update(finished.runId, { state: 'succeeded' });
    assert.equal(await store.runs.nextWakeAt(), due.wakeAt);

    const claimed = await store.runs.claimDue('a', now + 1, 1_000, 10);
    assert.deepEqual(
      claimed.map((r) => [r.runId, r.leaseOwner, r.leaseExpiresAt]),
      [[due.runId, 'a', now + 1_001]],
    );
    assert.deepEqual(await store.runs.claimDue('b', now + 500, 1_000, 10), []);
    assert.equal(await store.runs.nextWakeAt(), now + 60_000);
    assert.equal(await store.runs.renewLease(due.runId, 'a', now + 5_000), true);
    assert.equal(await store.runs.renewLease(due.runId, 'b', now + 5_000), false);
    const takeover = await store.runs.claimDue('b', now + 5_001, 1_000, 10);
    assert.deepEqual(
      takeover.map((r) => [r.runId, r.leaseOwner]),
      [[due.runId, 'b']],
    );
    assert.equal(await store.runs.renewLease(due.runId, 'a', now + 9_000), false);
    await store.runs.update(
      due.runId,
      { state: 'succeeded', leaseOwner: null, leaseExpiresAt: null },
      { leaseOwner: 'b' },
    );
  });

  c.test('concurrent claimers never get the same run', async () => {
    const store = c.store();
    const other = await createStore({ url: c.database().url });
    try {
      const runs: string[] = [];
      for (let i = 0; i < 30; i++) runs.push((await store.runs.createOrGet(await newRun(store))).run.runId);
      const now = Date.now() + 1;
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).runs.claimDue(`w${i}`, now, 60_000, 5)),
      );
      const claimed = claims.flat().map((r) => r.runId);
      assert.equal(new Set(claimed).size, claimed.length, 'a run was claimed twice');
      assert.ok(claimed.length >= 5 && claimed.every((id) => runs.includes(id)));
      const rest = await store.runs.claimDue('last', now, 60_000, 100);
      assert.deepEqual([...claimed, ...rest.map((r) => r.runId)].sort(), [...runs].sort());
    } finally {
      await other.close();
    }
  });
}
