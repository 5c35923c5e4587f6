/**
 * In-memory `ExecutionLedger`: the fake beside the contract in `execution-ledger.ts`. It keeps the
 * same invariants and lease rules as the store's repository (idempotent insert; CAS transitions
 * that refuse moves outside EXECUTION_TRANSITIONS and write history and outbox atomically; settling
 * clears the lease; `renewLease` only while in flight and only when the lease is free or the
 * caller's; `claimOrphans` takes expired or released leases, or unleased rows idle for
 * `leaseMs`) so manager tests and benchmarks can run without a database.
 * Every call yields to the event loop first, so interleavings resemble a real database's.
 */
import { flushHeld, type HeldJournal } from '../../domain/held-journal.js';
import type { CallbackPayload } from '../../domain/compute-callback.js';
import {
  canMoveExecution,
  type ComputeExecution,
  type ExecutionHistoryEntry,
} from '../../domain/compute-execution.js';
import { InvalidTransitionError } from '../../domain/errors.js';
import type {
  ExecutionLedger,
  ExecutionPage,
  LedgerListQuery,
  LedgerTransition,
} from '../execution-ledger.js';

export interface OutboxRow {
  readonly seq: number;
  readonly payload: CallbackPayload;
}

export class MemoryLedger implements ExecutionLedger {
  private readonly rows = new Map<string, ComputeExecution>();
  private readonly historyRows = new Map<string, ExecutionHistoryEntry[]>();
  /** Callback outbox rows, in write order (what the store's `callbacks` table would hold). */
  readonly outbox: OutboxRow[] = [];

  async insertIfAbsent(
    execution: ComputeExecution,
    running?: LedgerTransition,
    journal?: HeldJournal,
  ): Promise<{ execution: ComputeExecution; created: boolean }> {
    await flushHeld(journal);
    await tick();
    const existing = this.rows.get(execution.executionId);
    if (existing) return { execution: existing, created: false };
    this.rows.set(execution.executionId, execution);
    this.historyRows.set(execution.executionId, [
      {
        executionId: execution.executionId,
        seq: 1,
        status: 'pending',
        attempt: execution.attempt,
        at: execution.createdAt,
        details: {},
      },
    ]);
    const moved = running && this.move(execution.executionId, running);
    return { execution: moved ?? execution, created: true };
  }

  async transition(executionId: string, t: LedgerTransition): Promise<ComputeExecution | undefined> {
    const from = t.from.filter((status) => canMoveExecution(status, t.to));
    if (from.length === 0)
      throw new InvalidTransitionError(`compute execution cannot move from ${t.from.join('|')} to ${t.to}`);
    await tick();
    return this.move(executionId, t);
  }

  private move(executionId: string, t: LedgerTransition): ComputeExecution | undefined {
    const from = t.from.filter((status) => canMoveExecution(status, t.to));
    const row = this.rows.get(executionId);
    if (!row || !from.includes(row.status)) return undefined;
    const settled = t.to === 'succeeded' || t.to === 'failed';
    const next: ComputeExecution = {
      ...row,
      status: t.to,
      attempt: t.attempt ?? row.attempt,
      resources: t.resources ?? row.resources,
      endpoints: t.endpoints ?? row.endpoints,
      partial: t.partial !== undefined ? t.partial : row.partial,
      error: t.error !== undefined ? t.error : t.to === 'running' ? null : row.error,
      startedAt: t.to === 'running' ? t.at : row.startedAt,
      finishedAt: settled ? t.at : t.to === 'running' ? null : row.finishedAt,
      leaseOwner: settled ? null : row.leaseOwner,
      leaseExpiresAt: settled ? null : row.leaseExpiresAt,
    };
    this.rows.set(executionId, next);
    const history = this.historyRows.get(executionId) ?? [];
    history.push({
      executionId,
      seq: history.length + 1,
      status: t.to,
      attempt: next.attempt,
      at: t.at,
      details: t.details ?? {},
    });
    this.historyRows.set(executionId, history);
    if (t.callback) this.outbox.push({ seq: this.outbox.length + 1, payload: t.callback });
    return next;
  }

  async get(executionId: string): Promise<ComputeExecution | undefined> {
    await tick();
    return this.rows.get(executionId);
  }

  async history(executionId: string): Promise<readonly ExecutionHistoryEntry[]> {
    await tick();
    return [...(this.historyRows.get(executionId) ?? [])];
  }

  /** Ordered by execution id; the cursor is the last id of the previous page. */
  async list(query: LedgerListQuery): Promise<ExecutionPage> {
    await tick();
    const matching = [...this.rows.values()]
      .filter((r) => query.tenantId === undefined || r.tenantId === query.tenantId)
      .filter((r) => query.workflowRunId === undefined || r.workflowRunId === query.workflowRunId)
      .filter((r) => query.status === undefined || r.status === query.status)
      .filter((r) => query.cursor === undefined || r.executionId > query.cursor)
      .sort((a, b) => (a.executionId < b.executionId ? -1 : 1));
    const items = matching.slice(0, query.limit);
    const more = matching.length > query.limit;
    return { items, nextCursor: more ? (items.at(-1)?.executionId ?? null) : null };
  }

  async claimOrphans(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    executionId?: string,
  ): Promise<readonly ComputeExecution[]> {
    await tick();
    const claimed: ComputeExecution[] = [];
    for (const row of this.rows.values()) {
      if (claimed.length >= limit) break;
      if (executionId !== undefined && row.executionId !== executionId) continue;
      if (row.status !== 'pending' && row.status !== 'running') continue;
      const unleasedSince = Date.parse(row.startedAt ?? row.createdAt);
      const expired = row.leaseExpiresAt !== null ? row.leaseExpiresAt <= now : unleasedSince < now - leaseMs;
      if (!expired) continue;
      const next = { ...row, leaseOwner: owner, leaseExpiresAt: now + leaseMs };
      this.rows.set(row.executionId, next);
      claimed.push(next);
    }
    return claimed;
  }

  async renewLease(executionId: string, owner: string, until: number): Promise<boolean> {
    await tick();
    const row = this.rows.get(executionId);
    if (!row || (row.status !== 'pending' && row.status !== 'running')) return false;
    if (row.leaseOwner !== null && row.leaseOwner !== owner) return false;
    this.rows.set(executionId, { ...row, leaseOwner: owner, leaseExpiresAt: until });
    return true;
  }

  async releaseLeases(owner: string, at: number): Promise<number> {
    await tick();
    let released = 0;
    for (const row of this.rows.values()) {
      if (row.leaseOwner !== owner || (row.status !== 'pending' && row.status !== 'running')) continue;
      this.rows.set(row.executionId, { ...row, leaseOwner: null, leaseExpiresAt: at });
      released += 1;
    }
    return released;
  }

  /** Test helper: every row, unordered. */
  all(): readonly ComputeExecution[] {
    return [...this.rows.values()];
  }
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
