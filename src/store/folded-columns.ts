/**
 * The columns the folded writes insert, in insert order, shared by PostgreSQL's statements
 * (folded-writes.ts) and SQLite's (folded-writes-sqlite.ts).
 */
import type { executionRow } from './compute-execution-rows.js';

/** The columns of a new tenant row. */
export const TENANT_COLUMNS = [
  'id',
  'name',
  'created_at',
  'provider',
  'phase',
  'generation',
  'observed_generation',
  'paused',
  'spec',
  'status',
  'version',
  'updated_at',
  'archived',
  'plan_name',
] as const;

export type ExecutionRow = ReturnType<typeof executionRow>;

/** The columns of a new compute execution row. */
export const EXECUTION_COLUMNS = [
  'execution_id',
  'tenant_id',
  'workflow_run_id',
  'operation',
  'provider',
  'status',
  'attempt',
  'timeout_ms',
  'generation',
  'config_hash',
  'resources',
  'endpoints',
  'partial',
  'error',
  'lease_owner',
  'lease_expires_at',
  'created_at',
  'started_at',
  'finished_at',
] as const satisfies readonly (keyof ExecutionRow)[];

/** The columns of a callback outbox row, with their casts in a PostgreSQL select list. */
export const CALLBACK_COLUMNS = [
  ['id', 'text'],
  ['execution_id', 'text'],
  ['workflow_run_id', 'text'],
  ['tenant_id', 'text'],
  ['payload', 'text'],
  ['state', 'text'],
  ['attempts', 'integer'],
  ['next_attempt_at', 'bigint'],
  ['created_at', 'text'],
  ['delivered_at', 'text'],
] as const;

/** A callback outbox row, by column. */
export type CallbackColumns = Readonly<Record<(typeof CALLBACK_COLUMNS)[number][0], unknown>>;
