/**
 * Execution ledgers to run compute-manager tests against: the in-memory fake and the real store on
 * SQLite and PostgreSQL (src/store/testing/test-databases.ts; `LESSOR_TEST_BACKENDS` narrows the
 * databases, `memory` is always included). Each harness also creates tenants (the store enforces
 * the foreign key), looks them up (orphan recovery), reads the callback outbox and opens a second
 * ledger on the same data (a second Lessor process).
 */
import { randomUUID } from 'node:crypto';
import type { CallbackPayload } from '../../domain/compute-callback.js';
import type { TenantSpec } from '../../domain/tenant.js';
import { createStore } from '../../store/create-store.js';
import type { Store } from '../../store/store.js';
import { backends, type TestBackend } from '../../store/testing/test-databases.js';
import type { ExecutionLedger } from '../execution-ledger.js';
import type { TenantLookup } from '../orphan-recovery.js';
import { MemoryLedger } from './memory-ledger.js';

export interface TestTenant {
  readonly id: string;
  readonly name: string;
  readonly spec: TenantSpec;
}

export interface LedgerHarness {
  readonly ledger: ExecutionLedger;
  readonly tenants: TenantLookup;
  createTenant(name: string, spec: TenantSpec): Promise<TestTenant>;
  /** Callback payloads written for one execution, in write order. */
  callbacks(executionId: string): Promise<readonly CallbackPayload[]>;
  /** Another ledger on the same data, as a second process would have. */
  secondLedger(): Promise<ExecutionLedger>;
  cleanup(): Promise<void>;
}

export interface LedgerBackend {
  readonly name: string;
  create(): Promise<LedgerHarness>;
}

export function ledgerBackends(): readonly LedgerBackend[] {
  return [memoryBackend, ...backends().map(storeBackend)];
}

export const memoryBackend: LedgerBackend = {
  name: 'memory',
  async create() {
    const ledger = new MemoryLedger();
    const tenants = new Map<string, TestTenant>();
    return {
      ledger,
      tenants: async (id) => tenants.get(id),
      async createTenant(name, spec) {
        const tenant = { id: randomUUID(), name, spec };
        tenants.set(tenant.id, tenant);
        return tenant;
      },
      callbacks: async (executionId) =>
        ledger.outbox.map((row) => row.payload).filter((p) => p.executionId === executionId),
      secondLedger: async () => ledger,
      cleanup: async () => undefined,
    };
  },
};

function storeBackend(backend: TestBackend): LedgerBackend {
  return {
    name: backend.name,
    async create() {
      const db = await backend.create();
      const extra: Store[] = [];
      return {
        ledger: db.store.executions,
        tenants: (id) => db.store.tenants.get(id),
        createTenant: (name, spec) => db.store.tenants.create({ name, spec, actor: 'test' }),
        callbacks: async (executionId) =>
          (await allCallbacks(db.store)).filter((p) => p.executionId === executionId),
        async secondLedger() {
          // better-sqlite3 is synchronous: a second connection in the same thread waiting for the
          // write lock blocks the event loop, so the holder can never commit. In-process "second
          // processes" on SQLite therefore share the connection (the CAS is still the database's).
          if (backend.name === 'sqlite') return db.store.executions;
          const store = await createStore({ url: db.url });
          extra.push(store);
          return store.executions;
        },
        async cleanup() {
          await Promise.all(extra.map((s) => s.close()));
          await db.cleanup();
        },
      };
    },
  };
}

/** The outbox in write order (callback ids are uuid v7, so id order is creation order). */
async function allCallbacks(store: Store): Promise<CallbackPayload[]> {
  const rows = [];
  let cursor: string | undefined;
  do {
    const page = await store.callbacks.list({ limit: 500, cursor });
    rows.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((r) => r.payload);
}
