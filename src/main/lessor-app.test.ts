/**
 * The composition root's stop: `close(graceMs)` of a real app (SQLite file, embedded engine, fake
 * provider) honours its deadline — one deadline for every service — while a workflow step is still
 * in flight, and `close()` takes it from `server.shutdownGraceMs`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sharedFakeEngine } from '../compute/providers/fake/index.js';
import { loadConfig } from './config/load-config.js';
import { startLessor, type LessorApp } from './lessor-app.js';
import { createLogger } from './logger.js';
import { freePort } from './testing/free-port.js';

/** Every provider call takes this long: the `health` step (a describe) stays in flight for it. */
const PROVIDER_LATENCY_MS = 3_000;

async function startApp(dir: string, env: Record<string, string> = {}): Promise<LessorApp> {
  const config = loadConfig({
    cwd: dir,
    env: {
      LESSOR_DATA_DIR: dir,
      LESSOR_DATABASE__URL: `sqlite:${join(dir, 'lessor.db')}`,
      LESSOR_SERVER__PORT: String(await freePort()),
      LESSOR_ENGINE__EMBEDDED__POLL_INTERVAL_MS: '100',
      LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake',
      LESSOR_COMPUTE__PROVIDERS__FAKE__LATENCY_MS: String(PROVIDER_LATENCY_MS),
      ...env,
    },
    flags: {},
  });
  return startLessor(config, createLogger({ level: 'silent', format: 'json' }));
}

/** Creates a tenant and waits until its run's `health` step is calling the provider. */
async function stepInFlight(app: LessorApp, name: string): Promise<void> {
  const response = await fetch(`${app.url}/v1/tenants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, spec: { config: { image: 'app:1' } } }),
  });
  assert.equal(response.status, 201);
  const { id } = (await response.json()) as { id: string };
  const deadline = Date.now() + 4 * PROVIDER_LATENCY_MS;
  while (sharedFakeEngine.callCount('describe', id) === 0) {
    assert.ok(Date.now() < deadline, 'the health step never started');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = Date.now();
  await work();
  return Date.now() - started;
}

describe('lessor app: stop', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lessor-app-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('close(100) returns in about its deadline while a workflow step is in flight', async () => {
    const app = await startApp(join(dir, 'a'));
    await stepInFlight(app, 'slow-step-a');
    const took = await timed(() => app.close(100));
    assert.ok(
      took < 1_000,
      `close(100) took ${took} ms; the step in flight needs up to ${PROVIDER_LATENCY_MS} ms`,
    );
    assert.equal((await timed(() => app.close(100))) < 50, true, 'a second close waits for the first, done');
  });

  test('close() takes its deadline from server.shutdownGraceMs', async () => {
    const app = await startApp(join(dir, 'b'), { LESSOR_SERVER__SHUTDOWN_GRACE_MS: '150' });
    await stepInFlight(app, 'slow-step-b');
    const took = await timed(() => app.close());
    assert.ok(took < 1_000, `close() took ${took} ms with server.shutdownGraceMs 150`);
  });
});
