/** `lessor tenants rollback` and `history` against the real API server (in process, on a real database). */
import assert from 'node:assert/strict';
import { apiSuite, TOKENS, uniqueName } from '../api/testing/api-harness.js';
import type { Tenant } from '../api/types.js';
import { backends } from '../store/testing/test-databases.js';
import { runLessor } from './testing/run-cli.js';

const backend = backends()[0];
if (backend) {
  apiSuite(backend, 'lessor tenants rollback', (h) => {
    h.test('rolls back to a generation: a new generation with its spec; unknown 3, current 4', async () => {
      const name = uniqueName('cli');
      await h.inject({
        method: 'POST',
        url: '/v1/tenants',
        payload: { name, spec: { config: { image: 'a:1' } } },
      });
      await h.inject({
        method: 'PATCH',
        url: `/v1/tenants/${name}`,
        payload: { spec: { config: { image: 'a:2' } } },
      });
      const env = { LESSOR_URL: await h.baseUrl(), LESSOR_TOKEN: TOKENS.admin };
      const done = await runLessor(['tenants', 'rollback', name, '--to', '1', '-o', 'json'], { env });
      assert.equal(done.code, 0, done.stderr);
      const tenant = JSON.parse(done.stdout) as Tenant;
      assert.deepEqual([tenant.generation, tenant.spec.config.image], [3, 'a:1']);
      const unknown = await runLessor(['tenants', 'rollback', name, '--to', '9'], { env });
      assert.equal(unknown.code, 3, unknown.stderr);
      const current = await runLessor(['tenants', 'rollback', name, '--to', '3'], { env });
      assert.equal(current.code, 4, current.stderr);
      assert.match(current.stderr, /nothing to roll back/);
      const usage = await runLessor(['tenants', 'rollback', name], { env });
      assert.equal(usage.code, 2);
      const history = await runLessor(['tenants', 'history', name, '-o', 'json'], { env });
      assert.equal(history.code, 0, history.stderr);
      const { items } = JSON.parse(history.stdout) as {
        items: { generation: number; spec: Tenant['spec'] }[];
      };
      assert.deepEqual(
        items.map((r) => [r.generation, r.spec.config.image]),
        [
          [3, 'a:1'],
          [2, 'a:2'],
          [1, 'a:1'],
        ],
      );
      const table = await runLessor(['tenants', 'history', name], { env });
      assert.match(table.stdout, /GEN\s+AGE\s+ACTOR/);
    });
  });
}
