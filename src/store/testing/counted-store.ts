/**
 * A store on a fresh test database whose own metrics count statements and transactions (the
 * counters the write-path budget reads), for tests that hold one write to a number of round trips.
 * Call it inside `describe`: it registers the suite's `before` (database and store) and `after`
 * (store closed, database dropped).
 */
import { after, before } from 'node:test';
import type { StoreMetrics } from '../../domain/metrics.js';
import { createStore } from '../create-store.js';
import type { Store } from '../store.js';
import type { TestBackend, TestDatabase } from './test-databases.js';

export interface StatementCost {
  readonly statements: number;
  readonly transactions: number;
}

export interface CountedStore {
  /** The store (set once the suite's `before` has run). */
  readonly store: Store;
  /** Its database's URL. */
  readonly url: string;
  /** What `work` cost in statements and transactions on the store. */
  cost(work: () => Promise<unknown>): Promise<StatementCost>;
}

export function countedStore(backend: TestBackend): CountedStore {
  let db: TestDatabase | undefined;
  let store: Store | undefined;
  const counts = { statements: 0, transactions: 0 };
  const metrics: StoreMetrics = {
    queryDuration: { observe: () => void counts.statements++ },
    groupCommitBatchSize: { observe: () => {} },
    transactions: { inc: () => void counts.transactions++ },
  };

  before(async () => {
    db = await backend.create();
    store = await createStore({ url: db.url, metrics });
  });

  after(async () => {
    await store?.close();
    await db?.cleanup();
  });

  return {
    get store() {
      if (!store) throw new Error('countedStore: the suite has not started');
      return store;
    },
    get url() {
      if (!db) throw new Error('countedStore: the suite has not started');
      return db.url;
    },
    async cost(work) {
      const before = { ...counts };
      await work();
      return {
        statements: counts.statements - before.statements,
        transactions: counts.transactions - before.transactions,
      };
    },
  };
}
