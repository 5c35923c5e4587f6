/**
 * A Lessor-like process for the kill test: opens the store on a SQLite file, runs an embedded engine
 * and starts (idempotently) one run whose steps each append a line to a file, then exits 0 when the
 * run has finished. The test SIGKILLs it mid-run and starts it again.
 *
 *   node --import tsx kill-child.ts <database url> <run id> <effects file>
 */
import { appendFileSync } from 'node:fs';
import { silentLogger } from '../../../domain/logger.js';
import { createStore } from '../../../store/create-store.js';
import { EmbeddedWorkflowEngine } from '../embedded-engine.js';
import { define, finished } from '../../testing/run-probes.js';

const KILL_TEST_STEPS = 8;

const [url, runId, effectsFile] = process.argv.slice(2);
if (!url || !runId || !effectsFile)
  throw new Error('usage: kill-child.ts <database url> <run id> <effects file>');

const flow = define('kill-test', async (ctx) => {
  for (let i = 1; i <= KILL_TEST_STEPS; i++) {
    await ctx.step(`s${i}`, async () => {
      appendFileSync(effectsFile, `s${i}\n`);
      await new Promise((resolve) => setTimeout(resolve, 80));
      return i;
    });
  }
  await ctx.sleep('settle', 100);
  return 'done';
});

const store = await createStore({ url });
const engine = new EmbeddedWorkflowEngine({
  store,
  definitions: [flow],
  ownerId: `kill-child-${process.pid}`,
  logger: silentLogger,
  leaseMs: 600,
  pollIntervalMs: 50,
});
await engine.open();
const { run } = await engine.start({ runId, workflow: 'kill-test', input: null });
await finished(engine, run.runId, 60_000);
await engine.close(1000);
await store.close();
