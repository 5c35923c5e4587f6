/**
 * The store's own counters of a running Lessor, read from its `/metrics`
 * (`lessor_store_query_duration_seconds_count` per statement kind, `lessor_store_transactions_total`),
 * for tests that hold a code path to a statement budget (docs/architecture.md, "The write path in
 * statements").
 */
import assert from 'node:assert/strict';
import { parseExposition } from './prometheus.js';
import { sleep } from './wait.js';

export interface StoreCounts {
  readonly queries: number;
  readonly transactions: number;
  readonly byKind: Readonly<Record<string, number>>;
}

/** Statements: every query, plus the BEGIN and the COMMIT of every transaction. */
export const statementsOf = (c: StoreCounts): number => c.queries + 2 * c.transactions;

export async function storeCounts(url: string): Promise<StoreCounts> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200, 'GET /metrics');
  const { samples } = parseExposition(await response.text());
  const byKind: Record<string, number> = {};
  let queries = 0;
  let transactions = 0;
  for (const s of samples) {
    if (s.name === 'lessor_store_query_duration_seconds_count') {
      queries += s.value;
      byKind[s.labels.kind ?? '?'] = (byKind[s.labels.kind ?? '?'] ?? 0) + s.value;
    }
    if (s.name === 'lessor_store_transactions_total') transactions += s.value;
  }
  return { queries, transactions, byKind };
}

export function countsSince(now: StoreCounts, start: StoreCounts): StoreCounts {
  const byKind: Record<string, number> = {};
  for (const kind of new Set([...Object.keys(now.byKind), ...Object.keys(start.byKind)])) {
    byKind[kind] = (now.byKind[kind] ?? 0) - (start.byKind[kind] ?? 0);
  }
  return {
    queries: now.queries - start.queries,
    transactions: now.transactions - start.transactions,
    byKind,
  };
}

/** The counters once they have stood still for 100 ms (work that follows a run's end included). */
export async function settledCounts(url: string): Promise<StoreCounts> {
  let last = await storeCounts(url);
  for (;;) {
    await sleep(100);
    const now = await storeCounts(url);
    if (statementsOf(now) === statementsOf(last) && now.transactions === last.transactions) return now;
    last = now;
  }
}
