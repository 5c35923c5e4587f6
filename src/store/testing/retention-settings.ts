/**
 * Retention settings and per-kind counts for the sweeper's tests (retention-sweeper.test.ts and the
 * query-plan checks in sqlite/ and postgres/): every kind kept 30 days, a full pass a day, a pass an
 * hour, unless a test says otherwise.
 */
import type { RetentionCounts, RetentionOptions } from '../retention-sweeper.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

export function retentionOptions(overrides: Partial<RetentionOptions> = {}): RetentionOptions {
  return {
    events: { days: 30 },
    runs: { days: 30 },
    executions: { days: 30 },
    callbacks: { days: 30 },
    webhookDeliveries: { days: 30 },
    rollouts: { days: 30 },
    sweepIntervalMs: HOUR,
    fullSweepIntervalMs: DAY,
    batchSize: 100,
    ...overrides,
  };
}

/** A count for every kind: those given, 0 for the others (what a pass reports for all six). */
export function retentionCounts(given: Partial<RetentionCounts> = {}): RetentionCounts {
  return { webhookDeliveries: 0, rollouts: 0, callbacks: 0, executions: 0, runs: 0, events: 0, ...given };
}
