/**
 * Suspend, resume and logs end to end on real containers: a real `lessor serve` with the docker
 * provider on Podman. ready → suspend (the container exists and does not run; the endpoint refuses)
 * → logs show what the container printed at start → resume (the same container id; the endpoint
 * answers) → delete. Then a kill -9 of Lessor during a suspend and during a resume: after the
 * restart the tenant settles in the asked phase with one container. On every database and engine
 * of the matrix (test/support/deployment.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matrix } from '../support/deployment.js';
import { modeServerConfig } from '../support/docker-runtimes.js';
import { podmanSuite } from '../support/podman-suite.js';
import { waitFor, waitForPhase } from '../support/wait.js';

const SETTLE_MS = 120_000;

/** The mode server, which also says so on stdout as it starts. */
function printingConfig(mode: string) {
  const config = modeServerConfig(mode);
  return {
    ...config,
    command: [
      'sh',
      '-c',
      'mkdir -p /www && echo $MODE > /www/index.html && echo "starting $MODE" && exec httpd -f -p 8080 -h /www',
    ],
  };
}

async function answers(url: string): Promise<string | null> {
  return fetch(url, { signal: AbortSignal.timeout(3_000) }).then(
    async (r) => (await r.text()).trim(),
    () => null,
  );
}

// Every database × engine of the matrix: suspend and resume are runs like any other, and the kill -9
// cases recover through the engine's own journal (embedded on SQLite and PostgreSQL, Restate).
for (const { backend, engine, label } of matrix()) {
  describe(`suspend and resume on Podman ${label}`, () => {
    const suite = podmanSuite(
      { backend, engine },
      { tag: 'sus', stopTimeoutSeconds: 1, env: { LESSOR_CONTROLLER__DRIFT_INTERVAL_MS: '500' } },
    );
    const { prefix, containersOf } = suite;
    test(`${label} ready → suspend → logs → resume (same container) → delete`, () =>
      suite.run(async ({ client }) => {
        const created = await client.createTenant({
          name: `${prefix}-life`,
          spec: { config: printingConfig('one') },
        });
        const ready = await waitForPhase(client, created.id, 'ready', {
          timeoutMs: SETTLE_MS,
          failOn: ['failed'],
        });
        const url = ready.status.endpoints[0]!.url;
        assert.equal(await answers(url), 'one');
        const [container] = await containersOf(created.id);
        assert.ok(container);

        await client.patchTenant(created.id, { spec: { suspended: true } });
        const suspended = await waitForPhase(client, created.id, 'suspended', {
          timeoutMs: SETTLE_MS,
          failOn: ['failed'],
        });
        assert.equal(suspended.status.resources.containerId, container.id);
        const kept = await containersOf(created.id);
        assert.equal(kept.length, 1, 'the container is kept');
        assert.equal(kept[0]!.id, container.id);
        assert.notEqual(kept[0]!.state, 'running');
        assert.equal(await answers(url), null, 'the endpoint refuses while suspended');

        let text = '';
        for await (const chunk of client.tenantLogs(created.id, {})) text += chunk;
        assert.match(text, /starting one/);

        await client.patchTenant(created.id, { spec: { suspended: false } });
        const resumed = await waitForPhase(client, created.id, 'ready', {
          timeoutMs: SETTLE_MS,
          failOn: ['failed'],
        });
        assert.equal(resumed.status.resources.containerId, container.id, 'the same container runs again');
        const after = await containersOf(created.id);
        assert.deepEqual(
          after.map((c) => [c.id, c.state]),
          [[container.id, 'running']],
        );
        assert.equal(await answers(resumed.status.endpoints[0]!.url), 'one');

        await client.deleteTenant(created.id);
        await waitForPhase(client, created.id, 'archived', { timeoutMs: SETTLE_MS, failOn: ['failed'] });
        assert.deepEqual(await containersOf(created.id), []);
      }));

    test(`${label} kill -9 of Lessor during a suspend and during a resume: settles as asked, one container`, () =>
      suite.run(async ({ client, lessor }) => {
        const created = await client.createTenant({
          name: `${prefix}-crash`,
          spec: { config: printingConfig('two') },
        });
        await waitForPhase(client, created.id, 'ready', { timeoutMs: SETTLE_MS, failOn: ['failed'] });
        const [container] = await containersOf(created.id);

        for (const suspended of [true, false]) {
          await client.patchTenant(created.id, { spec: { suspended } });
          await waitFor(
            'the run to start',
            async () => {
              const tenant = await client.getTenant(created.id);
              return tenant.status.workflow?.action === (suspended ? 'suspend' : 'resume');
            },
            { timeoutMs: SETTLE_MS, intervalMs: 5 },
          );
          await lessor.kill('SIGKILL');
          await lessor.restart();
          const phase = suspended ? 'suspended' : 'ready';
          const settled = await waitForPhase(client, created.id, phase, {
            timeoutMs: SETTLE_MS,
            failOn: ['failed'],
          });
          assert.equal(settled.status.resources.containerId, container!.id);
          const containers = await containersOf(created.id);
          assert.equal(containers.length, 1, 'one container');
          assert.equal(containers[0]!.id, container!.id);
          assert.equal(containers[0]!.state === 'running', !suspended);
        }
      }));
  });
}
