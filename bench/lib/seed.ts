/**
 * Seeds a store with N ready tenants for the scale tests — directly through SQL (batched multi-row
 * inserts inside transactions on the bench's own Kysely connection), never through the API. Each
 * tenant looks like one the control plane provisioned: a `ready` row (spec + status documents, as
 * `tenantRow` writes them), two labels, its Created/provisioning/ready events and its succeeded
 * provision run. SQLite is written with synchronous=OFF and checkpointed before Lessor starts;
 * PostgreSQL is ANALYZEd (as autovacuum would have done on a table that grew to this size).
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, type Insertable } from 'kysely';
import pg from 'pg';
import { newId, workflowRunId } from '../../src/domain/ids.js';
import { tenantRunTags, tenantSubject } from '../../src/domain/tenant-run.js';
import type { Tenant } from '../../src/domain/tenant.js';
import { createStore } from '../../src/store/create-store.js';
import type { Database } from '../../src/store/schema.js';
import { tenantRow } from '../../src/store/tenant-rows.js';
import type { BenchDatabase } from './databases.js';

export const seededName = (i: number): string => `tenant-${String(i).padStart(6, '0')}`;

function readyTenant(i: number, at: string): Tenant {
  const id = newId();
  const runId = workflowRunId(id, 'provision', 1);
  const executionId = `ex-${id}-provision-g1-seeded`;
  const condition = (
    type: 'Ready' | 'Reconciling' | 'Degraded',
    status: 'True' | 'False',
    reason: string,
  ) => ({
    type,
    status,
    reason,
    message: '',
    lastTransitionTime: at,
    observedGeneration: 1,
  });
  const name = seededName(i);
  return {
    id,
    name,
    spec: {
      provider: 'fake',
      config: {
        image: 'registry.example/app:1.4.2',
        env: { MODE: 'production', REGION: 'eu-west-1' },
        ports: [{ containerPort: 8080 }],
      },
      labels: {
        plan: i % 10 === 0 ? 'enterprise' : i % 3 === 0 ? 'pro' : 'free',
        region: i % 2 === 0 ? 'eu' : 'us',
      },
      annotations: {},
      retryPolicy: null,
      paused: false,
    },
    generation: 1,
    status: {
      phase: 'ready',
      observedGeneration: 1,
      message: 'runtime matches generation 1',
      compute: { executionId, operation: 'provision', status: 'succeeded' },
      workflow: { runId, action: 'provision', state: 'succeeded', attempt: 1 },
      resources: { runtimeName: `lessor-${name}`, volumeId: `fake-vol-${i}`, runtimeId: `fake-rt-${i}` },
      endpoints: [{ name: 'http', url: `http://lessor-${name}.fake.invalid:8080` }],
      lastError: null,
      conditions: [
        condition('Degraded', 'False', 'Healthy'),
        condition('Ready', 'True', 'RuntimeReady'),
        condition('Reconciling', 'False', 'Settled'),
      ],
    },
    version: 4,
    createdAt: at,
    updatedAt: at,
  };
}

/** Inserts rows table by table: prepared statements on SQLite, multi-row inserts on PostgreSQL. */
interface RowWriter {
  insert(table: keyof Database, rows: readonly Record<string, unknown>[]): Promise<void>;
  inTransaction(work: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

function sqliteWriter(file: string): RowWriter {
  const database = new BetterSqlite3(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = OFF');
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    async insert(table, rows) {
      const columns = Object.keys(rows[0] ?? {});
      const per = Math.max(1, Math.floor(30_000 / columns.length));
      for (const chunk of chunks(rows, Math.min(per, 200))) {
        const key = `${table}:${columns.join(',')}:${chunk.length}`;
        let statement = statements.get(key);
        if (!statement) {
          const tuple = `(${columns.map(() => '?').join(', ')})`;
          statement = database.prepare(
            `insert into ${table} (${columns.join(', ')}) values ${chunk.map(() => tuple).join(', ')}`,
          );
          statements.set(key, statement);
        }
        statement.run(chunk.flatMap((row) => columns.map((c) => row[c] ?? null)));
      }
    },
    async inTransaction(work) {
      database.exec('begin');
      await work();
      database.exec('commit');
    },
    close: async () => {
      database.pragma('wal_checkpoint(TRUNCATE)');
      database.close();
    },
  };
}

function postgresWriter(url: string): RowWriter {
  const kysely = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
  });
  let executor: Kysely<Database> = kysely;
  return {
    async insert(table, rows) {
      const columns = Object.keys(rows[0] ?? {}).length;
      for (const chunk of chunks(rows, Math.floor(30_000 / Math.max(columns, 1)))) {
        await executor.insertInto(table).values(chunk).execute();
      }
    },
    async inTransaction(work) {
      await kysely.transaction().execute(async (trx) => {
        executor = trx;
        try {
          await work();
        } finally {
          executor = kysely;
        }
      });
    },
    // Statistics as autovacuum would have them on a table that grew to this size: without them the
    // planner serves `archived = 0 order by id` from the partial name index plus a sort (see report).
    close: async () => {
      await sql`analyze`.execute(kysely);
      await kysely.destroy();
    },
  };
}

type Rows = {
  tenants: Insertable<Database['tenants']>[];
  labels: Insertable<Database['tenant_labels']>[];
  events: Insertable<Database['tenant_events']>[];
  runs: Insertable<Database['workflow_runs']>[];
};

function rowsFor(tenant: Tenant, at: string): Omit<Rows, 'tenants'> {
  const runId = tenant.status.workflow!.runId;
  const event = (type: string, reason: string, from: string | null, to: string) => ({
    tenant_id: tenant.id,
    type,
    actor: type === 'Created' ? 'bench' : 'controller',
    reason,
    message: reason,
    from_phase: from,
    to_phase: to,
    generation: 1,
    run_id: type === 'Created' ? null : runId,
    execution_id: null,
    data: null,
    at,
  });
  return {
    labels: Object.entries(tenant.spec.labels).map(([key, value]) => ({ tenant_id: tenant.id, key, value })),
    events: [
      event('Created', 'Created', null, 'requested'),
      event('PhaseChanged', 'ProvisionStarted', 'requested', 'provisioning'),
      event('PhaseChanged', 'RuntimeReady', 'provisioning', 'ready'),
    ],
    runs: [
      {
        run_id: runId,
        workflow: 'provision',
        subject: tenantSubject(tenant.id),
        tags: JSON.stringify(
          tenantRunTags({ tenantId: tenant.id, generation: 1, configHash: 'seeded', triggerSource: 'api' }),
        ),
        engine: 'embedded',
        state: 'succeeded',
        attempt: 1,
        input: JSON.stringify({ tenantId: tenant.id, generation: 1 }),
        output: null,
        error: null,
        wake_at: null,
        lease_owner: null,
        lease_expires_at: null,
        created_at: at,
        updated_at: at,
        finished_at: at,
      },
    ],
  };
}

/** Migrates the database, then inserts `count` ready tenants in transactions of 5000. */
export async function seedTenants(db: BenchDatabase, count: number): Promise<{ ms: number }> {
  const store = await createStore({ url: db.url });
  await store.migrate();
  await store.close();
  const started = performance.now();
  const writer = db.target.kind === 'sqlite' ? sqliteWriter(db.target.file) : postgresWriter(db.target.url);
  const at = new Date().toISOString();
  try {
    for (let start = 0; start < count; start += 5000) {
      const batch: Rows = { tenants: [], labels: [], events: [], runs: [] };
      for (let i = start; i < Math.min(count, start + 5000); i++) {
        const tenant = readyTenant(i, at);
        batch.tenants.push(tenantRow(tenant, JSON.stringify(tenant.spec)));
        const more = rowsFor(tenant, at);
        batch.labels.push(...more.labels);
        batch.events.push(...more.events);
        batch.runs.push(...more.runs);
      }
      await writer.inTransaction(async () => {
        await writer.insert('tenants', batch.tenants);
        await writer.insert('tenant_labels', batch.labels);
        await writer.insert('tenant_events', batch.events);
        await writer.insert('workflow_runs', batch.runs);
      });
    }
  } finally {
    await writer.close();
  }
  return { ms: Math.round(performance.now() - started) };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
