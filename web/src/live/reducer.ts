/**
 * How live events change what a view shows, as pure functions (unit-tested under Node). Events come
 * from `GET /v1/events`; a view loads its data first, then folds each later event in. The server's
 * state stays the truth: a view reloads on reconnect, and the tenant page re-reads the tenant on
 * each of its events (these reducers only make lists and counts move without a reload).
 */
import type { Phase } from '../../../src/domain/tenant.js';
import type { Tenant, TenantEvent, TenantSummary } from '../../../src/api/types.js';

/** An event that moves a tenant between phases (`Created` enters `requested`). */
function phaseMove(event: TenantEvent): { from: Phase | null; to: Phase } | undefined {
  if (event.type === 'Created' && event.toPhase) return { from: null, to: event.toPhase };
  if (event.type === 'PhaseChanged' && event.toPhase && event.fromPhase !== event.toPhase) {
    return { from: event.fromPhase, to: event.toPhase };
  }
  return undefined;
}

/**
 * The rows of a tenant list after `event`: the tenant's phase (and generation, on a spec change)
 * updated in place. The same array when no row changed, so a view re-renders only when needed.
 * Rows are never added or removed here: a filtered page keeps its rows until reloaded.
 */
export function applyToRows(rows: readonly Tenant[], event: TenantEvent): readonly Tenant[] {
  const index = rows.findIndex((row) => row.id === event.tenantId);
  if (index === -1) return rows;
  const row = rows[index]!;
  const move = phaseMove(event);
  let next: Tenant = row;
  if (move && row.status.phase !== move.to) {
    next = { ...next, status: { ...next.status, phase: move.to }, updatedAt: event.at };
  }
  if (event.type === 'SpecChanged' && event.generation > row.generation) {
    next = { ...next, generation: event.generation, updatedAt: event.at };
  }
  if (next === row) return rows;
  const copy = rows.slice();
  copy[index] = next;
  return copy;
}

/**
 * Counts by phase after `event`: one less in the phase left, one more in the phase entered; `total`
 * (tenants not archived) follows. Counts never go below zero. (The overview re-reads the counts
 * whenever its stream reconnects, so a missed or doubled event does not linger.)
 */
export function applyToSummary(summary: TenantSummary, event: TenantEvent): TenantSummary {
  const move = phaseMove(event);
  if (!move) return summary;
  const phases = { ...summary.phases };
  let total = summary.total;
  if (move.from !== null && phases[move.from] > 0) {
    phases[move.from] -= 1;
    if (move.from !== 'archived') total -= 1;
  }
  phases[move.to] += 1;
  if (move.to !== 'archived') total += 1;
  return { total: Math.max(0, total), phases };
}

/** The newest `max` events, newest first, without duplicates (a resumed stream may repeat one). */
export function prependEvent(
  feed: readonly TenantEvent[],
  event: TenantEvent,
  max: number,
): readonly TenantEvent[] {
  if (feed.some((e) => e.seq === event.seq)) return feed;
  return [event, ...feed].slice(0, max);
}

/** A timeline in sequence order with `event` added (ignored when already present or out of order). */
export function appendEvent(timeline: readonly TenantEvent[], event: TenantEvent): readonly TenantEvent[] {
  const last = timeline[timeline.length - 1];
  if (last && event.seq <= last.seq) return timeline;
  return [...timeline, event];
}

/** One line of a tenant's runtime output, as `GET /v1/tenants/{id}/logs` sends it (`event: log`). */
export interface LogLine {
  readonly ts: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

/**
 * The live log view after `added` arrived: the newest `max` lines, oldest first. The page keeps a
 * bounded number of lines whatever the runtime writes; `dropped` counts what scrolled out.
 */
export function appendLogLines(
  view: { readonly lines: readonly LogLine[]; readonly dropped: number },
  added: readonly LogLine[],
  max: number,
): { lines: readonly LogLine[]; dropped: number } {
  if (added.length === 0) return view;
  const all = [...view.lines, ...added];
  const cut = Math.max(0, all.length - max);
  return { lines: cut === 0 ? all : all.slice(cut), dropped: view.dropped + cut };
}

/** The rollout an event is about (`rollout.*` phase changes and member changes carry its id). */
export function rolloutIdOf(event: TenantEvent): string | undefined {
  if (!event.type.startsWith('rollout.')) return undefined;
  const id = event.data?.rolloutId;
  return typeof id === 'string' ? id : undefined;
}
