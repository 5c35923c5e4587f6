/**
 * Rollouts against a real Lessor process (fake provider), on each database × engine: the dry run,
 * a health-gated rollout to the end with an overlapping create refused, `pauseAfterWaves` and
 * `promote`, a failure rate that halts the rollout inside its wave and rolls every changed tenant
 * back, and kill -9 of the server in the middle of a rollout: after the restart it continues, no
 * tenant is changed twice, no wave is skipped.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LessorClient } from '../../src/api/client.js';
import type { CreateRolloutRequest, Rollout, Tenant } from '../../src/api/types.js';
import { WebhookReceiver } from '../../src/callbacks/testing/webhook-receiver.js';
import { deploy, matrix, withLogs, type Deployment } from '../support/deployment.js';
import { statusOf, waitFor, waitForPhase } from '../support/wait.js';

const SETTLE_MS = 120_000;
const FAILING = { faults: { nonRetriable: true, failOperations: ['update'] } };

for (const { backend, engine, label } of matrix()) {
  describe(`rollouts ${label}`, () => {
    let d: Deployment | undefined;
    let client: LessorClient;

    const receiver = new WebhookReceiver();

    before(async () => {
      await receiver.start();
      d = await deploy({
        backend,
        engine,
        providers: { fake: { latencyMs: 20 } },
        env: {
          LESSOR_WEBHOOKS__ALLOW_HTTP: 'true',
          LESSOR_WEBHOOKS__ALLOWED_NETWORKS: '127.0.0.0/8',
        },
      });
      client = d.client;
      const hook = await client.createWebhook({ url: receiver.url, events: ['rollout.*'] });
      receiver.secrets = [hook.secret];
    });
    after(async () => {
      await d?.close();
      await receiver.close();
    });

    /** The verified rollout webhooks received about `rolloutId`, by type, once `types` have all come. */
    const webhooksOf = (rolloutId: string, types: readonly string[]) =>
      waitFor(`webhooks ${types.join(', ')} of ${rolloutId}`, async () => {
        const mine = receiver
          .verified()
          .filter((r) => (r.payload.data['rollout'] as { id: string }).id === rolloutId);
        const seen = new Set(mine.map((r) => r.payload.type));
        // Deliveries may arrive in any order: sorted by when the event happened.
        const ordered = [...mine].sort((a, b) => a.payload.timestamp.localeCompare(b.payload.timestamp));
        return types.every((t) => seen.has(t)) && ordered;
      });

    /** `count` ready tenants labelled `group=<group>`; those at `failing` indexes fail every update. */
    async function fleet(group: string, count: number, failing: readonly number[] = []): Promise<Tenant[]> {
      const made: Tenant[] = [];
      for (let i = 0; i < count; i++) {
        const config = { image: 'app:1', ...(failing.includes(i) ? FAILING : {}) };
        made.push(
          await client.createTenant({
            name: `${group}-${String(i).padStart(2, '0')}`,
            spec: { config, labels: { group } },
          }),
        );
      }
      for (const tenant of made) {
        await waitForPhase(client, tenant.id, 'ready', { timeoutMs: SETTLE_MS, failOn: ['failed'] });
      }
      return made;
    }

    const toImage = (
      group: string,
      image: string,
      extra: Partial<CreateRolloutRequest> = {},
    ): CreateRolloutRequest => ({
      description: `${group} to ${image}`,
      selector: { labels: `group=${group}` },
      change: { patch: { config: { image } } },
      ...extra,
    });

    const phaseOf = (id: string, phases: readonly string[]) =>
      waitFor(
        `rollout ${id} in ${phases.join('|')}`,
        async () => {
          const rollout = await client.getRollout(id);
          return phases.includes(rollout.status.phase) && rollout;
        },
        { timeoutMs: SETTLE_MS, intervalMs: 100 },
      );

    /** How many `SpecChanged` events the rollout wrote on the tenant. */
    async function changesBy(rollout: Rollout, tenantId: string): Promise<number> {
      const events = await client.tenantEvents(tenantId, { limit: 500 });
      return events.items.filter((e) => e.type === 'SpecChanged' && e.actor === `rollout:${rollout.id}`)
        .length;
    }

    test('the dry run answers the waves by name and the members whose spec would be invalid', () =>
      withLogs(d, async () => {
        const group = `dry${randomBytes(3).toString('hex')}`;
        const tenants = await fleet(group, 4);
        const plan = await client.planRollout(
          toImage(group, 'app:2', { strategy: { waves: [1, '50%', '100%'] } }),
        );
        assert.deepEqual(
          plan.waves.map((w) => w.tenants),
          [[tenants[0]!.name], [tenants[1]!.name], [tenants[2]!.name, tenants[3]!.name]],
        );
        assert.equal(plan.invalid.length, 0);
        const invalid = await client.planRollout({
          selector: { labels: `group=${group}` },
          change: { patch: { config: { ports: [{ containerPort: 0 }] } } },
        });
        assert.equal(invalid.total, 0);
        assert.equal(invalid.invalid.length, 4);
        assert.equal(invalid.invalid[0]?.error.code, 'VALIDATION_FAILED');
        const refused = await client
          .createRollout({
            selector: { labels: `group=${group}` },
            change: { patch: { config: { ports: [{ containerPort: 0 }] } } },
          })
          .catch((e: unknown) => e);
        assert.equal(statusOf(refused), 400, 'invalid members refuse the rollout');
        assert.equal(
          (await client.listRollouts({ limit: 500 })).items.some((r) => r.description.includes(group)),
          false,
        );
        for (const tenant of tenants)
          assert.equal((await client.getTenant(tenant.id)).generation, 1, 'a dry run changes nothing');
      }));

    test('a rollout changes every member once, wave by wave, and an overlapping one is 409', () =>
      withLogs(d, async () => {
        const group = `ok${randomBytes(3).toString('hex')}`;
        const tenants = await fleet(group, 8);
        const created = await client.createRollout(
          toImage(group, 'app:2', {
            strategy: { waves: [1, '50%', '100%'], maxParallel: 3, minHealthyMs: 200 },
          }),
        );
        assert.equal(created.status.counts.total, 8);
        const overlap = await client.createRollout(toImage(group, 'app:3')).catch((e: unknown) => e);
        assert.equal(statusOf(overlap), 409);
        const done = await phaseOf(created.id, ['succeeded', 'halted', 'rolledBack']);
        assert.equal(done.status.phase, 'succeeded');
        assert.deepEqual(done.status.counts, {
          total: 8,
          pending: 0,
          inProgress: 0,
          succeeded: 8,
          failed: 0,
          skipped: 0,
          rolledBack: 0,
        });
        assert.deepEqual(
          done.status.waves.map((w) => w.size),
          [1, 3, 4],
        );
        const finished = done.status.waves.map((w) => Date.parse(w.finishedAt ?? ''));
        const started = done.status.waves.map((w) => Date.parse(w.startedAt ?? ''));
        for (let w = 1; w < 3; w++)
          assert.ok(started[w]! >= finished[w - 1]!, `wave ${w} started after wave ${w - 1} settled`);
        for (const tenant of tenants) {
          const now = await client.getTenant(tenant.id);
          assert.equal(now.spec.config.image, 'app:2');
          assert.equal(now.generation, 2);
          assert.equal(await changesBy(created, tenant.id), 1);
        }
        const members = await client.rolloutTenants(created.id, { state: 'succeeded' });
        assert.equal(members.items.length, 8);
        assert.ok(members.items.every((m) => m.fromGeneration === 1 && m.toGeneration === 2));
        const again = await client.createRollout(
          toImage(group, 'app:3', { strategy: { waves: ['100%'], maxParallel: 8 } }),
        );
        assert.equal(again.status.counts.total, 8, 'a finished rollout releases its tenants');
        await phaseOf(again.id, ['succeeded']);
        const hooks = await webhooksOf(created.id, ['rollout.started', 'rollout.succeeded']);
        assert.deepEqual(
          hooks.map((r) => r.payload.type),
          ['rollout.started', 'rollout.succeeded'],
          'one webhook per event',
        );
        const final = hooks[1]!.payload.data['rollout'] as Rollout;
        assert.equal(final.status.phase, 'succeeded');
        assert.equal(final.status.counts.succeeded, 8);
      }));

    test('a plan-revision rollout moves plan tenants to that revision; a tenant not made from the plan is invalid', () =>
      withLogs(d, async () => {
        const group = `pl${randomBytes(3).toString('hex')}`;
        const plan = `plan-${group}`;
        const plans = `${d!.lessor.url}/v1/plans`;
        const send = async (method: string, url: string, body: unknown): Promise<void> => {
          const res = await fetch(url, {
            method,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          assert.ok(res.ok, `${method} ${url}: ${res.status} ${await res.text()}`);
        };
        const planBody = (image: string) => ({
          spec: { config: { image, env: { TIER: 'base' } } },
          allowedOverrides: ['/env'],
        });
        await send('POST', plans, { name: plan, ...planBody('app:1') });
        const made: Tenant[] = [];
        for (let i = 0; i < 3; i++) {
          const spec = { plan: { name: plan }, config: { env: { N: String(i) } }, labels: { group } };
          made.push(await client.createTenant({ name: `${group}-${i}`, spec }));
        }
        const raw = await client.createTenant({
          name: `${group}-raw`,
          spec: { config: { image: 'app:1' }, labels: { group } },
        });
        for (const tenant of [...made, raw])
          await waitForPhase(client, tenant.id, 'ready', { timeoutMs: SETTLE_MS });
        await send('PUT', `${plans}/${plan}`, planBody('app:2'));
        const request: CreateRolloutRequest = {
          description: `${group} to revision 2`,
          selector: { labels: `group=${group}` },
          change: { planRevision: 2 },
          strategy: { waves: [1, '100%'], maxParallel: 2 },
        };
        const dry = await client.planRollout(request);
        assert.equal(dry.total, 3);
        assert.deepEqual(
          dry.invalid.map((m) => [m.tenant, m.error.code]),
          [[raw.name, 'VALIDATION_FAILED']],
        );
        const missing = await client.planRollout({ ...request, change: { planRevision: 9 } });
        assert.equal(missing.total, 0, 'no member can move to a revision its plan does not have');
        assert.match(missing.invalid[0]?.error.message ?? '', /has no revision 9/);
        const refused = await client.createRollout(request).catch((e: unknown) => e);
        assert.equal(statusOf(refused), 400, 'an invalid member refuses the rollout');

        const created = await client.createRollout(request, { skipInvalid: true });
        const done = await phaseOf(created.id, ['succeeded', 'halted', 'rolledBack']);
        assert.equal(done.status.phase, 'succeeded');
        assert.equal(done.status.counts.succeeded, 3);
        for (const [i, tenant] of made.entries()) {
          const now = await client.getTenant(tenant.id);
          assert.deepEqual(now.spec.plan, { name: plan, revision: 2 });
          assert.deepEqual(now.spec.config, { env: { N: String(i) } }, 'overrides kept');
          assert.equal(now.generation, 2);
        }
        assert.equal((await client.getTenant(raw.id)).generation, 1, 'the invalid member was left out');
      }));

    test('pauseAfterWaves pauses after the wave until promote', () =>
      withLogs(d, async () => {
        const group = `pa${randomBytes(3).toString('hex')}`;
        await fleet(group, 4);
        const created = await client.createRollout(
          toImage(group, 'app:2', { strategy: { waves: [1, '100%'], pauseAfterWaves: [0], maxParallel: 4 } }),
        );
        const paused = await phaseOf(created.id, ['paused']);
        assert.equal(paused.status.waves[0]?.succeeded, 1);
        assert.equal(paused.status.waves[1]?.pending, 3, 'nothing of wave 1 started');
        const refused = await client
          .commandRollout(created.id, 'abort')
          .then(() => client.commandRollout(created.id, 'promote'))
          .catch((e: unknown) => e);
        assert.equal(statusOf(refused), 409, 'an aborted rollout cannot be promoted');
        const aborted = await client.getRollout(created.id);
        assert.equal(aborted.status.phase, 'aborted');
        assert.equal(aborted.status.counts.pending, 3);

        const second = await client.createRollout(
          toImage(group, 'app:3', { strategy: { waves: [1, '100%'], pauseAfterWaves: [0], maxParallel: 4 } }),
        );
        await phaseOf(second.id, ['paused']);
        await client.commandRollout(second.id, 'promote');
        const done = await phaseOf(second.id, ['succeeded']);
        assert.equal(done.status.counts.succeeded, 4);
      }));

    test('failures past maxFailedPercent halt inside the wave and every changed tenant is rolled back', () =>
      withLogs(d, async () => {
        const group = `halt${randomBytes(3).toString('hex')}`;
        // Wave 0: members 0-1 (fine); wave 1: 2-5 with 2 and 3 failing; wave 2: the rest.
        const tenants = await fleet(group, 10, [2, 3]);
        const created = await client.createRollout(
          toImage(group, 'app:2', {
            strategy: { waves: [2, 6, '100%'], maxParallel: 1 },
            failurePolicy: { maxFailedPercent: 30, onHalt: 'rollback' },
          }),
        );
        const done = await phaseOf(created.id, ['rolledBack', 'succeeded', 'halted']);
        assert.equal(done.status.phase, 'rolledBack');
        assert.match(done.status.haltReason ?? '', /wave 1/);
        const wave2 = done.status.waves[2]!;
        assert.equal(wave2.pending, 4, 'no tenant of a later wave started');
        const members = await client.rolloutTenants(created.id, { limit: 50 });
        const changed = members.items.filter((m) => m.toGeneration !== null);
        assert.ok(changed.length >= 4 && changed.length <= 5, `changed ${changed.length}`);
        for (const member of changed) {
          assert.equal(member.state, 'rolledBack');
          const tenant = await client.getTenant(member.tenantId);
          assert.equal(tenant.spec.config.image, 'app:1', `${member.tenant} is back on the old image`);
          assert.equal(tenant.generation, 3);
        }
        for (const tenant of tenants.slice(6))
          assert.equal((await client.getTenant(tenant.id)).generation, 1);
        const events = await client.tenantEvents(changed[0]!.tenantId, { limit: 200 });
        assert.ok(events.items.some((e) => e.type === 'rollout.tenant_changed'));
        // The rollback is the tenant rollback to the generation before the change, by the rollout.
        const rollback = events.items.filter(
          (e) => e.reason === 'RollbackRequested' && e.actor === `rollout:${created.id}`,
        );
        assert.equal(rollback.length, 1, JSON.stringify(events.items.map((e) => [e.type, e.reason])));
        assert.match(rollback[0]!.message, /rollback to generation 1 requested by rollout:/);
        const hooks = await webhooksOf(created.id, [
          'rollout.started',
          'rollout.halted',
          'rollout.rolled_back',
        ]);
        assert.deepEqual(
          hooks.map((r) => r.payload.type),
          ['rollout.started', 'rollout.halted', 'rollout.rolled_back'],
        );
        const halted = hooks[1]!.payload.data['rollout'] as Rollout;
        assert.match(halted.status.haltReason ?? '', /wave 1/);
      }));

    test('kill -9 in the middle of a rollout: after the restart it continues, each tenant changed once', () =>
      withLogs(d, async () => {
        const group = `crash${randomBytes(3).toString('hex')}`;
        const tenants = await fleet(group, 24);
        const created = await client.createRollout(
          toImage(group, 'app:2', {
            strategy: { waves: [2, '50%', '100%'], maxParallel: 4, minHealthyMs: 300 },
          }),
        );
        await waitFor(
          'a few members settled',
          async () => (await client.getRollout(created.id)).status.counts.succeeded >= 3,
          { timeoutMs: SETTLE_MS },
        );
        await d!.lessor.kill('SIGKILL');
        await d!.lessor.restart();
        const done = await phaseOf(created.id, ['succeeded', 'halted', 'rolledBack']);
        assert.equal(done.status.phase, 'succeeded');
        // The fake provider's runtimes live in the killed process: an update in flight at the kill may
        // find its runtime gone and fail the tenant. Such a member is failed, never lost or repeated.
        const { counts } = done.status;
        assert.equal(counts.succeeded + counts.failed, 24, JSON.stringify(counts));
        const members = (await client.rolloutTenants(created.id, { limit: 50 })).items;
        for (const member of members.filter((m) => m.state === 'failed')) {
          const tenant = await client.getTenant(member.tenantId);
          assert.equal(
            tenant.status.phase,
            'failed',
            `${member.tenant} failed with its tenant (${member.error?.code ?? 'no error'})`,
          );
        }
        for (const tenant of tenants) {
          const now = await client.getTenant(tenant.id);
          assert.equal(now.generation, 2, `${tenant.name} changed once`);
          assert.equal(await changesBy(created, tenant.id), 1);
        }
        const started = done.status.waves.map((w) => Date.parse(w.startedAt ?? ''));
        const finished = done.status.waves.map((w) => Date.parse(w.finishedAt ?? ''));
        for (let w = 1; w < 3; w++)
          assert.ok(started[w]! >= finished[w - 1]!, `wave ${w} started after wave ${w - 1} settled`);
      }));
  });
}
