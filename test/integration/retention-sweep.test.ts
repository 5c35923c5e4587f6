/**
 * Retention through the real composition root (`startLessor`: SQLite file, embedded engine, fake
 * provider, HTTP API), configured as an operator would (`retention.*` in lessor.yaml) but with
 * windows of under two seconds: the sweep the app starts deletes what a tenant moved past — its
 * first execution once an update's execution replaced it in `status.compute`, delivered callbacks,
 * old events — and keeps what the tenant's status points at and its newest run of each action.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiError, LessorClient } from '../../src/api/client.js';
import { waitFor, waitForPhase } from '../support/wait.js';
import { startYamlLessor, type YamlLessor } from '../support/yaml-lessor.js';

const WINDOW_DAYS = 0.00002; // 1.7 s
const WAIT = { timeoutMs: 30_000 } as const;

const WINDOW = `{ days: ${WINDOW_DAYS} }`;
const LESSOR_YAML = `
log: { level: warn }
engine: { type: embedded, embedded: { pollIntervalMs: 100 } }
controller: { resyncIntervalMs: 500 }
compute: { defaultProvider: fake, providers: { fake: {} } }
retention:
  events: ${WINDOW}
  runs: ${WINDOW}
  executions: ${WINDOW}
  callbacks: ${WINDOW}
  sweepIntervalMs: 200
  fullSweepIntervalMs: 1000
`;

let lessor: YamlLessor | undefined;
let client: LessorClient;

before(async () => {
  lessor = await startYamlLessor({ prefix: 'lessor-retention-', body: LESSOR_YAML });
  client = new LessorClient({ baseUrl: lessor.app.url });
});

after(() => lessor?.close());

const gone = (read: () => Promise<unknown>) => async (): Promise<boolean> =>
  read().then(
    () => false,
    (error: unknown) => error instanceof ApiError && error.status === 404,
  );

test('the sweep started with the app deletes what a tenant moved past and keeps what its status points at', async () => {
  const created = await client.createTenant({ name: 'keeper', spec: { config: {} } });
  const provisioned = await waitForPhase(client, created.id, 'ready', { ...WAIT, failOn: ['failed'] });
  await client.patchTenant(created.id, { spec: { config: { env: { MODE: 'two' } } } });
  const updated = await waitFor(
    'the update',
    async () => {
      const tenant = await client.getTenant(created.id);
      return tenant.status.phase === 'ready' && tenant.status.observedGeneration === 2 && tenant;
    },
    WAIT,
  );
  const first = provisioned.status.compute!.executionId;
  const current = updated.status.compute!.executionId;
  assert.notEqual(first, current);

  await waitFor(
    'the replaced execution to be swept',
    gone(() => client.getExecution(first)),
    WAIT,
  );
  await waitFor(
    'delivered callbacks to be swept',
    async () => (await client.listCallbacks()).items.length === 0,
    WAIT,
  );
  await waitFor(
    'old events to be swept',
    async () => (await client.tenantEvents(created.id)).items.length <= 1,
    WAIT,
  );

  assert.equal((await client.getExecution(current)).executionId, current, 'status.compute names it');
  assert.equal((await client.getRun(updated.status.workflow!.runId)).action, 'update');
  assert.equal(
    (await client.getRun(provisioned.status.workflow!.runId)).action,
    'provision',
    'newest provision run',
  );
  assert.equal((await client.getTenant(created.id)).status.phase, 'ready');
});
