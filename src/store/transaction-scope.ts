/**
 * The rule every transaction callback keeps, enforced: it runs SQL on its own transaction and
 * awaits nothing else of the store. Another store call from inside it needs a connection of its
 * own, and on SQLite the one connection is the one this transaction holds (group-commit-driver.ts):
 * it would wait for this commit, which waits for it — forever. On PostgreSQL it takes a second
 * pool connection and may wait for a row lock this transaction holds. So such a call fails at
 * once with `TransactionMisuseError`, on both databases, instead of hanging.
 *
 * How: `transaction()` (context.ts) runs its callback inside a scope, and the driver wrapper every
 * binding goes through (unavailable-dialect.ts) calls `assertOutsideTransaction` before it acquires a
 * connection. Queries on the transaction itself never acquire one, so only the forbidden calls
 * meet the check. The scope is closed when the callback settles, so work the callback left
 * running (it should leave none) is not blamed after the commit.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface Scope {
  open: boolean;
}

const scopes = new AsyncLocalStorage<Scope>();

/** A programming error: a transaction callback called the store outside its transaction. */
export class TransactionMisuseError extends Error {
  override readonly name = 'TransactionMisuseError';
}

/** Runs a transaction callback inside the scope that `assertOutsideTransaction` checks. */
export async function inTransactionScope<T>(work: () => Promise<T>): Promise<T> {
  const scope: Scope = { open: true };
  try {
    return await scopes.run(scope, work);
  } finally {
    scope.open = false;
  }
}

export function assertOutsideTransaction(): void {
  if (scopes.getStore()?.open) {
    throw new TransactionMisuseError(
      'a transaction callback awaited a store call outside its transaction: it would wait for this ' +
        "transaction's own commit; run the query on the transaction instead",
    );
  }
}
