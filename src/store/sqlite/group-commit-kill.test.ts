/**
 * Group commit's crash contract with a real SIGKILL: a child process writes through the store from
 * 64 concurrent writers and prints each write the moment it is acknowledged; killed mid-burst, at
 * several moments, it must not have acknowledged anything the file does not hold afterwards.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sqliteBackend } from '../testing/test-databases.js';
import { specOf } from '../conformance/harness.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Runs the child until it acknowledged at least `atLeast` writes, kills it, returns what it acknowledged. */
async function acknowledgedBeforeKill(
  url: string,
  tenantId: string,
  label: string,
  atLeast: number,
): Promise<string[]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'testing', 'ack-child.ts'), url, tenantId, label],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child acknowledged too little: ${stderr}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.split('\n').length > atLeast) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  await exited;
  // Only complete lines: a marker is acknowledged once its newline is out.
  return stdout.split('\n').slice(0, -1);
}

test('no write acknowledged before a SIGKILL is missing after it', async (t) => {
  const db = await sqliteBackend.create();
  try {
    const tenant = await db.store.tenants.create({ name: 'ack-test', spec: specOf(), actor: 'test' });
    const acknowledged: string[] = [];
    for (const [run, atLeast] of [200, 1500, 4000].entries()) {
      acknowledged.push(...(await acknowledgedBeforeKill(db.url, tenant.id, `run${run}`, atLeast)));
      const stored = new Set(
        (await db.store.events.listByTenant(tenant.id, { limit: 1_000_000 }))
          .filter((event) => event.actor === 'kill-test')
          .map((event) => event.message),
      );
      const missing = acknowledged.filter((marker) => !stored.has(marker));
      t.diagnostic(
        `kill ${run + 1}: ${acknowledged.length} writes acknowledged so far, ${stored.size} stored, ${missing.length} missing`,
      );
      assert.deepEqual(missing, []);
    }
  } finally {
    await db.cleanup();
  }
});
