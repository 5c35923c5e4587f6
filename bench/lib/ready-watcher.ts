/**
 * Observes tenants reaching a settled phase without loading the server: the bench reads Lessor's
 * event log (`tenant_events`, phase transitions) through its OWN database connection every 2 ms —
 * a read-only WAL reader on SQLite, a separate session on PostgreSQL. Lessor's event loop serves
 * no polling traffic, so what is measured is the control plane, not the observer. (The API's own
 * observers — SSE, `--wait` — are measured separately.)
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { wallMs } from './stats.js';

export type DbTarget =
  { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string };

export type SettledPhase = 'ready' | 'failed' | 'archived';

export interface Settled {
  readonly phase: SettledPhase;
  /** Server clock (ms) of the transition, from the event row. */
  readonly serverAt: number;
  /** Bench clock (ms) when the watcher saw it. */
  readonly seenAt: number;
}

interface EventRow {
  seq: number | string;
  tenant_id: string;
  to_phase: string | null;
  at: string;
}

// Every event after the low-water mark, not only settled ones: on PostgreSQL a lower seq can commit
// after a higher one, so the watcher advances only over contiguous seqs (a gap older than GAP_MS is a
// rolled-back insert and is skipped).
const SQL = `select seq, tenant_id, to_phase, at from tenant_events where seq > $1 order by seq limit 5000`;
const POLL_MS = 2;
const GAP_MS = 3000;

export class ReadyWatcher {
  /** Every seq up to here has been seen (or given up on). */
  private cursor = 0;
  private readonly above = new Set<number>();
  private gapSince: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly seen = new Map<string, Settled[]>();
  private readonly waiters = new Map<
    string,
    { phases: readonly SettledPhase[]; resolve: (s: Settled) => void }
  >();

  private constructor(
    private readonly query: (after: number) => Promise<EventRow[]>,
    private readonly release: () => Promise<void>,
  ) {}

  static async open(target: DbTarget): Promise<ReadyWatcher> {
    if (target.kind === 'sqlite') {
      const db = new BetterSqlite3(target.file, { readonly: true, fileMustExist: true });
      const statement = db.prepare(SQL.replace('$1', '?'));
      const latest = db.prepare('select coalesce(max(seq), 0) as seq from tenant_events');
      const watcher = new ReadyWatcher(
        async (after) => statement.all(after) as EventRow[],
        async () => void db.close(),
      );
      watcher.cursor = Number((latest.get() as { seq: number }).seq);
      return watcher.start();
    }
    const client = new pg.Client({ connectionString: target.url });
    client.on('error', () => {});
    await client.connect();
    // The poll must read only the new events, through the primary key. A fresh bench database has
    // no statistics until ANALYZE (never, on a server with autovacuum off), and the planner then
    // takes `seq > $1` to match a third of the table: every poll scanned and sorted every event,
    // about 0.7 ms of the server's CPU per tenant at c = 128 — load this observer must not add.
    await client.query('set enable_seqscan = off');
    const watcher = new ReadyWatcher(
      async (after) =>
        (await client.query<EventRow>({ name: 'bench-watch', text: SQL, values: [after] })).rows,
      () => client.end(),
    );
    watcher.cursor = Number(
      (await client.query<{ seq: string }>('select coalesce(max(seq), 0) as seq from tenant_events')).rows[0]!
        .seq,
    );
    return watcher.start();
  }

  /** Resolves when the tenant reaches one of `phases` (a transition already seen counts). */
  wait(tenantId: string, phases: readonly SettledPhase[], timeoutMs: number): Promise<Settled> {
    const earlier = this.seen.get(tenantId)?.find((s) => phases.includes(s.phase));
    if (earlier) {
      this.seen.delete(tenantId);
      return Promise.resolve(earlier);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(tenantId);
        reject(new Error(`tenant ${tenantId} not ${phases.join('/')} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(tenantId, { phases, resolve: (s) => (clearTimeout(timer), resolve(s)) });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.release();
  }

  private start(): this {
    this.schedule();
    return this;
  }

  private schedule(): void {
    if (!this.closed) this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }

  private async poll(): Promise<void> {
    try {
      const rows = await this.query(this.cursor);
      const seenAt = wallMs();
      for (const row of rows) {
        const seq = Number(row.seq);
        if (this.above.has(seq)) continue;
        this.above.add(seq);
        if (row.to_phase === 'ready' || row.to_phase === 'failed' || row.to_phase === 'archived') {
          this.deliver(row.tenant_id, { phase: row.to_phase, serverAt: Date.parse(row.at), seenAt });
        }
      }
      this.advance(seenAt);
    } catch {
      // A busy or restarting database: look again at the next tick.
    }
    this.schedule();
  }

  private advance(now: number): void {
    while (this.above.delete(this.cursor + 1)) this.cursor++;
    if (this.above.size === 0) {
      this.gapSince = null;
      return;
    }
    this.gapSince ??= now;
    if (now - this.gapSince > GAP_MS) {
      this.cursor = Math.min(...this.above) - 1;
      this.gapSince = null;
      this.advance(now);
    }
  }

  private deliver(tenantId: string, settled: Settled): void {
    const waiter = this.waiters.get(tenantId);
    if (waiter && waiter.phases.includes(settled.phase)) {
      this.waiters.delete(tenantId);
      waiter.resolve(settled);
      return;
    }
    const list = this.seen.get(tenantId) ?? [];
    list.push(settled);
    this.seen.set(tenantId, list);
  }
}
