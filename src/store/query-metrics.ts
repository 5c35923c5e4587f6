/**
 * Store query latency for the metrics port, through Kysely's query log (which times every query it
 * runs). The label set is closed: the dialect and the statement's kind, never its text.
 */
import type { LogEvent } from 'kysely';
import type { StoreMetrics } from '../domain/metrics.js';
import type { DialectName } from './store.js';

const KINDS: Readonly<Record<string, string>> = {
  SelectQueryNode: 'select',
  InsertQueryNode: 'insert',
  UpdateQueryNode: 'update',
  DeleteQueryNode: 'delete',
};

export function queryMetricsLog(metrics: StoreMetrics, dialect: DialectName): (event: LogEvent) => void {
  return (event) => {
    const kind = KINDS[event.query.query.kind] ?? 'other';
    metrics.queryDuration.observe({ dialect, kind }, event.queryDurationMillis / 1000);
  };
}
