/**
 * A runtime's own output (its stdout/stderr) is application data that may hold secrets: it must not
 * reach anything a viewer reads (tenant status, events, executions and their history, runs and
 * steps, callbacks) nor warn-level logs (docs/decisions.md, "Runtime output stays with the
 * runtime"). Through the real composition root (`startLessor`: SQLite file, embedded engine,
 * process provider), a tenant prints a marker and exits, failing its health check; afterwards the
 * marker is searched in the API's views, in every row of every table of the database, and in the
 * server's log lines at warn and above.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { LessorClient } from '../../src/api/client.js';
import { waitForPhase } from '../support/wait.js';
import { startYamlLessor, type YamlLessor } from '../support/yaml-lessor.js';

const MARKER = `runtime-output-${randomUUID()}`;
/** The command prints MARKER without containing it (the spec is rightly visible). */
const REVERSED = [...MARKER].reverse().join('');
const PINO_WARN = 40;

const LESSOR_YAML = `
log: { level: debug }
engine: { type: embedded, embedded: { pollIntervalMs: 100 } }
controller: { resyncIntervalMs: 500, driftIntervalMs: 60000 }
compute: { defaultProvider: process, providers: { process: { stopGraceMs: 500 } } }
retryPolicy: { provision: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 } }
`;

/** Every row of every table, as one JSON text. */
function databaseText(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((t) => t.name);
    return JSON.stringify(tables.map((name) => [name, db.prepare(`SELECT * FROM "${name}"`).all()]));
  } finally {
    db.close();
  }
}

let dir: string;
let lessor: YamlLessor | undefined;
let client: LessorClient;
const logs: string[] = [];

before(async () => {
  lessor = await startYamlLessor({
    prefix: 'lessor-output-',
    body: LESSOR_YAML,
    onLog: (line) => logs.push(line),
  });
  dir = lessor.dir;
  client = new LessorClient({ baseUrl: lessor.app.url });
});

after(() => lessor?.close());

test('the output of a runtime that fails its health check is in its log file only', async () => {
  const marker = `[...'${REVERSED}'].reverse().join('')`;
  const script = `console.log('out', ${marker}); console.error('err', ${marker}); process.exit(3)`;
  const created = await client.createTenant({
    name: 'noisy',
    spec: {
      config: {
        command: [process.execPath, '-e', script],
        healthCheck: { type: 'http', intervalMs: 100, retries: 50 },
      },
    },
  });
  const failed = await waitForPhase(client, created.id, 'failed', { timeoutMs: 60_000 });
  assert.equal(failed.status.lastError?.code, 'HEALTH_CHECK_FAILED');

  const output = await readFile(join(dir, 'process', 'noisy', 'stdout.log'), 'utf8');
  const errors = await readFile(join(dir, 'process', 'noisy', 'stderr.log'), 'utf8');
  assert.match(output, new RegExp(`out ${MARKER}`), 'the runtime did print the marker');
  assert.match(errors, new RegExp(`err ${MARKER}`));

  const executions = (await client.tenantExecutions(created.id)).items;
  assert.ok(executions.length > 0);
  const views = {
    tenant: failed,
    events: await client.tenantEvents(created.id),
    executions,
    withHistory: await Promise.all(executions.map((e) => client.getExecution(e.executionId))),
    run: failed.status.workflow ? await client.getRun(failed.status.workflow.runId) : null,
    callbacks: await client.listCallbacks(),
  };
  assert.ok(views.run, 'the tenant shows its run');
  assert.doesNotMatch(JSON.stringify(views), new RegExp(MARKER), 'an API view shows the runtime output');
  assert.doesNotMatch(databaseText(join(dir, 'lessor.db')), new RegExp(MARKER), 'the database holds it');

  const loud = logs.filter((line) => (JSON.parse(line) as { level: number }).level >= PINO_WARN);
  assert.ok(
    loud.some((line) => line.includes('HEALTH_CHECK_FAILED')),
    'the failure itself is logged at warn or above',
  );
  assert.deepEqual(
    loud.filter((line) => line.includes(MARKER)),
    [],
  );
});
