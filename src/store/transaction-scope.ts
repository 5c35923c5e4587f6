/**
 * The rule every transaction callback keeps, enforced: it runs SQL on its own transaction and
 * waits for nothing else. Another store call from inside it needs a connection of its own, and on
 * SQLite the one connection is the one this transaction holds (group-commit-driver.ts): it would
 * wait for this commit, which waits for it — forever. On PostgreSQL it takes a second pool
 * connection and may wait for a row lock this transaction holds. So such a transaction fails with
 * `TransactionMisuseError`, on both databases, instead of hanging.
 *
 * How, without tracking async context (an `AsyncLocalStorage` costs every promise of the process a
 * hook, measured at ~15 % of the CPU of a create→ready): a callback that only runs its own SQL goes
 * from one statement to the next in microtasks, because each statement's result resumes it. So a
 * transaction that is open with no statement in flight when the event loop next turns (a macrotask
 * runs only once the microtask queue is empty) is waiting for something else: a store call on
 * another connection, a timer, I/O. The driver wrapper every binding goes through
 * (unavailable-dialect.ts) keeps one `TransactionGuard` per connection; `sweepIdle` runs once per
 * turn while any transaction went idle, rolls such a transaction back at once and hands its
 * connection on (so a stray call waiting for it proceeds instead of hanging), and the callback's
 * next statement or its commit throws `TransactionMisuseError`. A statement in flight — including a
 * driver's own waits inside it (a lock, SQLITE_BUSY retries, the group commit's yield) — never
 * counts as idle. Cost: two counter updates per statement and one `setImmediate` per turn.
 */

/** A programming error: a transaction callback waited for something other than its own SQL. */
export class TransactionMisuseError extends Error {
  override readonly name = 'TransactionMisuseError';
}

const MISUSE =
  'a transaction callback waited for something other than its own SQL (another store call, a timer, ' +
  'I/O) while its transaction was open; the transaction was rolled back: run the query on the ' +
  'transaction instead, and do other work before or after it';

/** Guards one connection: tracks its open transaction and whether a statement is in flight. */
export class TransactionGuard {
  private open = false;
  private inFlight = 0;
  private abortion: Promise<void> | undefined;

  /** `abort` rolls the open transaction back and hands the connection on; it is called at most once. */
  constructor(private readonly abort: () => Promise<void>) {}

  /** Runs one driver call on the connection (a statement, BEGIN, a savepoint) as "in flight". */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.assertUsable();
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  /** Marks a stream's iteration in flight; `leave` ends it. */
  enter(): void {
    this.assertUsable();
    this.inFlight++;
  }

  leave(): void {
    this.inFlight--;
    if (this.open && this.inFlight === 0) watchIdle(this);
  }

  /** BEGIN has run: from now on the connection is idle between statements. */
  opened(): void {
    this.open = true;
    if (this.inFlight === 0) watchIdle(this);
  }

  /** Before COMMIT: throws when the guard rolled the transaction back. */
  closing(): void {
    this.assertUsable();
    this.open = false;
  }

  /**
   * Before ROLLBACK or the release: when the guard aborted the transaction, the promise to wait for
   * instead (the connection is already rolled back and handed on, and must not be touched again).
   */
  ended(): Promise<void> | undefined {
    this.open = false;
    return this.abortion;
  }

  /** Called by the sweep, with the microtask queue empty: an open, idle transaction is waiting for something else. */
  sweep(): void {
    if (!this.open || this.inFlight > 0 || this.abortion) return;
    this.open = false;
    this.abortion = this.abort().catch(() => undefined);
  }

  private assertUsable(): void {
    if (this.abortion) throw new TransactionMisuseError(MISUSE);
  }
}

const idle = new Set<TransactionGuard>();
let sweepScheduled = false;

function watchIdle(guard: TransactionGuard): void {
  idle.add(guard);
  if (sweepScheduled) return;
  sweepScheduled = true;
  setImmediate(sweepIdle);
}

/** Runs as a macrotask, so every callback has had its microtasks: an idle open transaction is stalled. */
function sweepIdle(): void {
  sweepScheduled = false;
  const guards = [...idle];
  idle.clear();
  for (const guard of guards) guard.sweep();
}
