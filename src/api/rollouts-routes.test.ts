/**
 * The rollouts routes in process (runs are recorded, not executed): roles, validation, the dry run,
 * invalid members and `skipInvalid`, overlap, commands and their 409s, the members listing, and
 * secret values of a patch never read back.
 */
import assert from 'node:assert/strict';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, uniqueName, type ApiHarness } from './testing/api-harness.js';
import type { Problem, Rollout, RolloutDryRun, RolloutMemberList, Tenant } from './types.js';

async function group(h: ApiHarness, count: number, config: Record<string, unknown> = { image: 'app:1' }) {
  const label = uniqueName('g');
  const tenants: Tenant[] = [];
  for (let i = 0; i < count; i++) {
    const body = { name: `${label}-${i}`, spec: { config, labels: { group: label } } };
    const res = await h.inject({ method: 'POST', url: '/v1/tenants', payload: body });
    assert.equal(res.statusCode, 201, res.body);
    tenants.push(res.json<Tenant>());
  }
  return { label, tenants };
}

const rolloutBody = (label: string, patch: Record<string, unknown> = { config: { image: 'app:2' } }) => ({
  selector: { labels: `group=${label}` },
  change: { patch },
  strategy: { waves: [1, '100%'] },
});

interface PostRolloutOptions {
  readonly patch?: Record<string, unknown>;
  readonly token?: 'admin' | 'operator' | 'viewer';
  /** e.g. `?dryRun=true`. */
  readonly query?: string;
}

/** `POST /v1/rollouts` of `rolloutBody(label, patch)`, as `token` (admin by default). */
const postRollout = (h: ApiHarness, label: string, { patch, token, query = '' }: PostRolloutOptions = {}) =>
  h.inject({ method: 'POST', url: `/v1/rollouts${query}`, payload: rolloutBody(label, patch), token });

for (const backend of backends()) {
  apiSuite(
    backend,
    'rollouts',
    (h) => {
      h.test('operators create, viewers read but may not create (403)', async () => {
        const { label } = await group(h, 2);
        const denied = await postRollout(h, label, { token: 'viewer' });
        assert.equal(denied.statusCode, 403);
        const created = await postRollout(h, label, { token: 'operator' });
        assert.equal(created.statusCode, 201, created.body);
        const rollout = created.json<Rollout>();
        assert.equal(created.headers.location, `/v1/rollouts/${rollout.id}`);
        assert.equal(rollout.createdBy, 'api:operator-bot');
        assert.deepEqual(
          rollout.status.waves.map((w) => w.size),
          [1, 1],
        );
        const read = await h.inject({ method: 'GET', url: `/v1/rollouts/${rollout.id}`, token: 'viewer' });
        assert.equal(read.statusCode, 200);
        const run = await h.store().runs.get(`rollout:${rollout.id}:0`);
        assert.equal(run?.workflow, 'rollout', 'the first run is started');
        const command = await h.inject({
          method: 'POST',
          url: `/v1/rollouts/${rollout.id}/pause`,
          token: 'viewer',
        });
        assert.equal(command.statusCode, 403);
      });

      h.test('bad requests are 400 and store nothing', async () => {
        const { label } = await group(h, 1);
        const before = (await h.store().rollouts.list({ limit: 500 })).items.length;
        const cases = [
          { reason: 'no selector', body: { change: { patch: {} } } },
          { reason: 'an empty selector', body: { selector: {}, change: { patch: {} } } },
          { reason: 'a bad label selector', body: { ...rolloutBody(label), selector: { labels: 'a=b=c' } } },
          { reason: 'a wave past 100%', body: { ...rolloutBody(label), strategy: { waves: ['150%'] } } },
          {
            reason: 'pauseAfterWaves without the wave',
            body: { ...rolloutBody(label), strategy: { waves: [1], pauseAfterWaves: [3] } },
          },
          { reason: 'an unknown field', body: { ...rolloutBody(label), plan: 'pro' } },
          { reason: 'maxParallel 0', body: { ...rolloutBody(label), strategy: { maxParallel: 0 } } },
          { reason: 'a selector matching nobody', body: rolloutBody(uniqueName('nobody')) },
        ];
        for (const c of cases) {
          const res = await h.inject({ method: 'POST', url: '/v1/rollouts', payload: c.body });
          assert.equal(res.statusCode, 400, `${c.reason}: ${res.body}`);
          assert.equal(res.json<Problem>().code, 'VALIDATION_FAILED', c.reason);
        }
        assert.equal((await h.store().rollouts.list({ limit: 500 })).items.length, before);
        const missing = await h.inject({
          method: 'GET',
          url: '/v1/rollouts/01938f40-1a2b-7c3d-9e4f-5a6b7c8d9e0f',
        });
        assert.equal(missing.statusCode, 404);
        const notAnId = await h.inject({ method: 'GET', url: '/v1/rollouts/nope' });
        assert.equal(notAnId.statusCode, 400);
      });

      h.test('the dry run lists waves and invalid members; skipInvalid leaves them out', async () => {
        const good = await group(h, 2);
        const label = good.label;
        // A third member whose merged spec is invalid: its config already has ports, the patch breaks them.
        const odd = {
          name: `${label}-z`,
          spec: { config: { image: 'app:1', ports: [{ containerPort: 80 }] }, labels: { group: label } },
        };
        assert.equal((await h.inject({ method: 'POST', url: '/v1/tenants', payload: odd })).statusCode, 201);
        const patch = { config: { ports: null, image: 'app:2' } };
        const breaking = { config: { image: 'app:2', ports: [{ containerPort: 80, protocol: 'sctp' }] } };
        const plan = await postRollout(h, label, { patch, query: '?dryRun=true' });
        assert.equal(plan.statusCode, 200, plan.body);
        assert.deepEqual(
          plan.json<RolloutDryRun>().waves.map((w) => w.tenants.length),
          [1, 2],
        );
        const bad = await postRollout(h, label, { patch: breaking, query: '?dryRun=true' });
        const dry = bad.json<RolloutDryRun>();
        assert.equal(dry.invalid.length, 3);
        const refused = await postRollout(h, label, { patch: breaking });
        assert.equal(refused.statusCode, 400);
        assert.equal(refused.json<Problem>().errors?.length, 3);
        const sticky = { config: { image: 'app:3' }, retryPolicy: { maxAttempts: 0 } };
        const partial = await postRollout(h, label, { patch: sticky, query: '?dryRun=true' });
        assert.equal(
          partial.json<RolloutDryRun>().invalid.length,
          3,
          'every member sees the same invalid retry policy',
        );
        for (const tenant of good.tenants)
          assert.equal((await h.store().tenants.get(tenant.id))?.generation, 1);
      });

      h.test(
        'a member with a stored secret whose code changes needs an admin; skipInvalid leaves it out',
        async () => {
          const { label, tenants } = await group(h, 2);
          const secret = {
            name: `${label}-s`,
            spec: { config: { image: 'app:1', secretEnv: { TOKEN: 'hunter2' } }, labels: { group: label } },
          };
          assert.equal(
            (await h.inject({ method: 'POST', url: '/v1/tenants', payload: secret })).statusCode,
            201,
          );
          const asOperator = await postRollout(h, label, { token: 'operator' });
          assert.equal(asOperator.statusCode, 400, asOperator.body);
          assert.match(asOperator.body, /FORBIDDEN/);
          const skipping = await postRollout(h, label, { token: 'operator', query: '?skipInvalid=true' });
          assert.equal(skipping.statusCode, 201, skipping.body);
          const rollout = skipping.json<Rollout>();
          assert.equal(rollout.status.counts.total, tenants.length);
          const members = await h.inject({
            method: 'GET',
            url: `/v1/rollouts/${rollout.id}/tenants?state=pending`,
          });
          assert.deepEqual(
            members.json<RolloutMemberList>().items.map((m) => m.tenant),
            tenants.map((t) => t.name),
          );
        },
      );

      h.test('overlap is 409; commands move the phase or answer 409 INVALID_TRANSITION', async () => {
        const { label } = await group(h, 2);
        const first = (await postRollout(h, label)).json<Rollout>();
        const overlap = await postRollout(h, label);
        assert.equal(overlap.statusCode, 409);
        const post = (command: string) =>
          h.inject({ method: 'POST', url: `/v1/rollouts/${first.id}/${command}` });
        assert.equal((await post('promote')).statusCode, 409, 'not waiting after a wave');
        const paused = await post('pause');
        assert.equal(paused.json<Rollout>().status.phase, 'paused');
        assert.equal((await post('pause')).statusCode, 200, 'pausing twice is harmless');
        assert.equal((await post('resume')).json<Rollout>().status.phase, 'running');
        assert.ok(await h.store().runs.get(`rollout:${first.id}:1`), 'resume starts the next run');
        assert.equal((await post('abort')).json<Rollout>().status.phase, 'aborted');
        assert.equal((await post('resume')).statusCode, 409);
        assert.equal((await post('rollback')).statusCode, 409);
        assert.equal((await post('explode')).statusCode, 400);
        const released = await postRollout(h, label);
        assert.equal(released.statusCode, 201, 'an aborted rollout released its tenants');
      });

      h.test('secret values in the patch read back as ***, in the rollout and in its events', async () => {
        const { label } = await group(h, 1);
        const patch = { config: { secretEnv: { TOKEN: 'hunter2' } } };
        const res = await postRollout(h, label, { patch, token: 'admin' });
        assert.equal(res.statusCode, 201, res.body);
        assert.ok(!res.body.includes('hunter2'));
        const rollout = res.json<Rollout>();
        assert.deepEqual((rollout.change as { patch: unknown }).patch, {
          config: { secretEnv: { TOKEN: '***' } },
        });
        const listed = await h.inject({ method: 'GET', url: '/v1/rollouts?limit=500' });
        assert.ok(!listed.body.includes('hunter2'));
        const events = await h.store().events.listSince(0, 100_000);
        assert.ok(!JSON.stringify(events).includes('hunter2'));
      });
    },
    { rawSpecs: 'operator' },
  );

  apiSuite(backend, 'rollouts under the default plan policy', (h) => {
    h.test(
      'an operator may not change raw specs through a rollout: each member is a POLICY_VIOLATION',
      async () => {
        const { label } = await group(h, 2);
        const res = await postRollout(h, label, { token: 'operator' });
        assert.equal(res.statusCode, 400, res.body);
        const problem = res.json<Problem>();
        assert.equal(problem.errors?.length, 2);
        for (const error of problem.errors ?? []) assert.match(error.message, /^POLICY_VIOLATION/);
        const listed = await h.inject({ method: 'GET', url: '/v1/rollouts', token: 'viewer' });
        assert.equal(listed.json<{ items: unknown[] }>().items.length, 0, 'nothing stored');
      },
    );
  });
}
