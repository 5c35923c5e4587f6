/**
 * Child of group-commit-kill.test.ts: opens the SQLite store at argv[2] and appends events to the
 * tenant argv[3] from 64 concurrent writers, forever, printing each event's marker (argv[4] plus a
 * counter) on stdout the moment its write is acknowledged. The parent kills it with SIGKILL
 * mid-burst; every printed marker must be stored.
 */
import { createStore } from '../../create-store.js';

const store = await createStore({ url: process.argv[2]! });
const tenantId = process.argv[3]!;
const label = process.argv[4]!;
let next = 0;

async function writer(): Promise<never> {
  for (;;) {
    const marker = `${label}-${next++}`;
    await store.appendEvent(tenantId, {
      type: 'Audit',
      actor: 'kill-test',
      reason: 'Ack',
      message: marker,
      fromPhase: null,
      toPhase: null,
      generation: 1,
      runId: null,
      executionId: null,
    });
    process.stdout.write(`${marker}\n`);
  }
}

await Promise.all(Array.from({ length: 64 }, writer));
