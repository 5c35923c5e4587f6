/**
 * The persistence port the compute manager needs: the execution ledger contract, defined once in
 * the domain (domain/execution-ledger.ts) and implemented by the store (`store.executions`).
 * `testing/memory-ledger.ts` is the in-memory fake beside it.
 */
export type {
  ExecutionLedger,
  ExecutionListQuery as LedgerListQuery,
  ExecutionPage,
  ExecutionTransition as LedgerTransition,
} from '../domain/execution-ledger.js';
