/**
 * Decorates the store so every committed write that appended tenant events wakes this process's
 * event streams (SSE) at once instead of at their next poll. The event log is the truth and the
 * streams still poll (other replicas' writes arrive that way); the wake-up is only about latency.
 * Wake-ups are coalesced per turn of the event loop, so a burst of writes costs one read per stream.
 */
import type { ComputeExecutionRepository, Store, TenantRepository } from '../store/store.js';

export function notifyOnEvents(store: Store, notify: () => void): Store {
  let scheduled = false;
  const soon = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      notify();
    });
  };
  const after =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const result = await write(...args);
      soon();
      return result;
    };
  const { tenants, executions } = store;
  const notifyingTenants: TenantRepository = Object.assign(Object.create(tenants) as TenantRepository, {
    create: after(tenants.create.bind(tenants)),
    change: after(tenants.change.bind(tenants)),
  });
  const notifyingExecutions: ComputeExecutionRepository = Object.assign(
    Object.create(executions) as ComputeExecutionRepository,
    {
      insertIfAbsent: after(executions.insertIfAbsent.bind(executions)),
      transition: after(executions.transition.bind(executions)),
    },
  );
  return Object.assign(Object.create(store) as Store, {
    tenants: notifyingTenants,
    executions: notifyingExecutions,
    appendEvent: after(store.appendEvent.bind(store)),
  });
}
