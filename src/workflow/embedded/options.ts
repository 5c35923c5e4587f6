/**
 * Configuration of the embedded engine, and the notifier port through which a promise resolution in
 * one process wakes a run held by another (the composition root supplies PostgreSQL LISTEN/NOTIFY;
 * without one, an in-process notifier serves a single process).
 */
import type { Store } from '../../store/store.js';
import type { WorkflowEngineOptions } from '../engine.js';

/** The run rows, the journal and the durable promises: all the embedded engine keeps. */
export type EmbeddedStore = Pick<Store, 'runs' | 'steps'>;

/**
 * Best-effort wake-ups between processes. Delivery may be lost or duplicated: the engine treats a
 * notification as "look again" (a lost one is caught by the lease-renewal re-check and the poll).
 */
export interface RunNotifier {
  publish(runId: string): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: (runId: string) => void): () => void;
}

export interface EmbeddedEngineOptions extends WorkflowEngineOptions {
  readonly store: EmbeddedStore;
  /** Unique per process (and per engine instance): the lease owner id. */
  readonly ownerId: string;
  /** Lease length; renewed every third of it while a run is held (`engine.embedded.leaseMs`). */
  readonly leaseMs: number;
  /** Longest time between two looks for due runs; expired leases are found this way (`engine.embedded.pollIntervalMs`). */
  readonly pollIntervalMs: number;
  /**
   * Runs executing at once in this process, and separately the number of waiting coroutines kept in
   * memory; a wait beyond that suspends (the run is released and picked up again when due). Default 256.
   */
  readonly maxConcurrentRuns?: number;
  /** Sleeps longer than this release the run instead of holding it in memory. Default `leaseMs`. */
  readonly maxInMemorySleepMs?: number;
  readonly now?: () => number;
  readonly notifier?: RunNotifier;
}

export interface ResolvedOptions {
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly maxConcurrentRuns: number;
  readonly maxInMemorySleepMs: number;
  readonly now: () => number;
}

export function resolveOptions(options: EmbeddedEngineOptions): ResolvedOptions {
  const { leaseMs, pollIntervalMs } = options;
  return Object.freeze({
    leaseMs,
    pollIntervalMs,
    maxConcurrentRuns: options.maxConcurrentRuns ?? 256,
    maxInMemorySleepMs: options.maxInMemorySleepMs ?? leaseMs,
    now: options.now ?? Date.now,
  });
}

/** Wake-ups within one process: listeners are called synchronously on publish. */
export function createLocalNotifier(): RunNotifier {
  const listeners = new Set<(runId: string) => void>();
  return {
    publish(runId) {
      for (const listener of [...listeners]) listener(runId);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
