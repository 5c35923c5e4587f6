import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ComputeRequest, ComputeResult } from './provider.js';
import { FakeEngine, FakeProvider } from './providers/fake/index.js';
import { memoryBackend } from './testing/ledger-backends.js';
import {
  fakeManager,
  fakeRegistry,
  fakeSpec,
  recordingLogger,
  startRequest,
  uniqueName,
  waitForStatus,
} from './testing/manager-fixtures.js';

/** A fake whose engine error echoes the request, secrets and credentials included. */
class LeakyProvider extends FakeProvider {
  override async provision(request: ComputeRequest): Promise<ComputeResult> {
    const secret = (request.config.secretEnv as Record<string, string>).TOKEN ?? '';
    throw Object.assign(new Error(`engine rejected token ${secret}`), {
      code: 'EACCES',
      request: { headers: { authorization: `Bearer ${secret}` }, body: request.config },
    });
  }
}

test('failures are logged with tenant, operation, execution and code: warn when retriable, error otherwise', async () => {
  const h = await memoryBackend.create();
  const { logger, records } = recordingLogger();
  const { manager } = fakeManager(h.ledger, { logger });
  const retriable = await h.createTenant(uniqueName(), fakeSpec({ faults: { failTimes: 1 } }));
  const fatal = await h.createTenant(uniqueName(), fakeSpec({ faults: { nonRetriable: true } }));
  const one = await manager.start(startRequest(retriable));
  const two = await manager.start(startRequest(fatal));
  await waitForStatus(manager, one.executionId);
  await waitForStatus(manager, two.executionId);
  const failure = (executionId: string) =>
    records.find((r) => r.fields.executionId === executionId && /failed/.test(r.msg));
  assert.equal(failure(one.executionId)?.level, 'warn');
  assert.equal(failure(two.executionId)?.level, 'error');
  for (const [record, tenant] of [
    [failure(one.executionId), retriable],
    [failure(two.executionId), fatal],
  ] as const) {
    assert.equal(record?.fields.tenantId, tenant.id);
    assert.equal(record?.fields.operation, 'provision');
    assert.ok(record?.fields.code);
  }
  assert.ok(
    records.some(
      (r) => r.level === 'debug' && r.fields.executionId === one.executionId && r.fields.providerError,
    ),
  );
  await manager.close();
});

test('secrets never reach the stored error, the callback or the logs', async () => {
  const h = await memoryBackend.create();
  const { logger, records } = recordingLogger();
  const provider = new LeakyProvider({ engine: new FakeEngine() });
  const { manager } = fakeManager(h.ledger, { logger, registry: fakeRegistry(provider) });
  const tenant = await h.createTenant(uniqueName(), fakeSpec({ secretEnv: { TOKEN: 'sup3r-s3cret' } }));
  const started = await manager.start(startRequest(tenant));
  const view = await waitForStatus(manager, started.executionId);
  assert.equal(view.error?.code, 'INTERNAL', 'the fake maps unknown errors to INTERNAL');
  const everything = JSON.stringify({ view, callbacks: await h.callbacks(started.executionId), records });
  assert.ok(!everything.includes('sup3r-s3cret'), everything);
  assert.ok(everything.includes('***'));
  await manager.close();
});
