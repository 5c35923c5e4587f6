/**
 * Quick local measurement of the embedded engine's throughput on a real database (not a test, not
 * the product benchmark — that is `npm run bench`): N short runs started C at a time, each with
 * three steps, or with a step, a promise resolved by the driver (a callback) and a step.
 *
 *   node --import tsx src/workflow/embedded/testing/measure-throughput.ts [sqlite|postgres] [runs] [concurrency] [steps|promise]
 */
import { silentLogger, type Logger } from '../../../domain/logger.js';
import { defaultConfig } from '../../../main/config/testing/default-config.js';
import { postgresBackend, sqliteBackend } from '../../../store/testing/test-databases.js';
import { EmbeddedWorkflowEngine } from '../embedded-engine.js';
import { define } from '../../testing/run-probes.js';
import { startRequest } from './engine-harness.js';

const [backendName = 'sqlite', runsArg = '2000', concurrencyArg = '128', shape = 'steps'] =
  process.argv.slice(2);
const total = Number(runsArg);
const concurrency = Number(concurrencyArg);
const backend = backendName === 'postgres' ? postgresBackend : sqliteBackend;

const flow = define('measured', async (ctx) => {
  const a = await ctx.step('validate', async () => 1);
  if (shape === 'promise') {
    const outcome = await ctx.awaitPromise<number>('callback', { timeoutMs: 60_000 });
    return ctx.step('mark-ready', async () => a + (outcome.value ?? 0));
  }
  const b = await ctx.step('record-intent', async () => a + 1);
  return ctx.step('mark-ready', async () => b + 1);
});

let succeeded = 0;
let allDone: () => void = () => {};
const done = new Promise<void>((resolve) => (allDone = resolve));
const counting: Logger = {
  ...silentLogger,
  info: (obj: object | string, msg?: string) => {
    if ((msg ?? obj) === 'run succeeded' && ++succeeded === total) allDone();
  },
  child: () => counting,
};

const db = await backend.create();
try {
  const engine = new EmbeddedWorkflowEngine({
    store: db.store,
    definitions: [flow],
    ownerId: 'measure',
    logger: counting,
    ...defaultConfig().engine.embedded,
  });
  await engine.open();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next += 1;
      const { run } = await engine.start(startRequest('measured'));
      if (shape === 'promise') await engine.resolvePromise(run.runId, 'callback', 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await done;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${backend.name} ${shape}: ${total} runs, concurrency ${concurrency}: ${(total / seconds).toFixed(0)} runs/s wall ` +
      `(${seconds.toFixed(2)} s), ${(total / cpuSeconds).toFixed(0)} runs per CPU-second of this process`,
  );
  await engine.close(1000);
} finally {
  await db.cleanup();
}
