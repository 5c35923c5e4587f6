/**
 * Decorates the execution ledger so every committed transition that wrote a callback row wakes the
 * dispatcher at once: the outbox is durable, the wake-up is only about latency.
 */
import type { ComputeExecutionRepository } from '../store/store.js';

export function wakeOnSettle(
  ledger: ComputeExecutionRepository,
  wake: () => void,
): ComputeExecutionRepository {
  return {
    insertIfAbsent: (execution) => ledger.insertIfAbsent(execution),
    async transition(executionId, transition) {
      const result = await ledger.transition(executionId, transition);
      if (result && transition.callback) wake();
      return result;
    },
    get: (executionId) => ledger.get(executionId),
    history: (executionId) => ledger.history(executionId),
    list: (query) => ledger.list(query),
    claimOrphans: (owner, now, leaseMs, limit) => ledger.claimOrphans(owner, now, leaseMs, limit),
    renewLease: (executionId, owner, until) => ledger.renewLease(executionId, owner, until),
    releaseLeases: (owner, at) => ledger.releaseLeases(owner, at),
  };
}
