/**
 * Rollout metrics and trace events, wired by the composition root around the rollouts module so
 * that it records nothing itself:
 * - `lessor_rollouts_active` and `lessor_rollout_tenants{state}`: read from the store (rollouts not
 *   in a final phase, and their members by state), cached and read again at most once per
 *   `refreshIntervalMs` like the fleet gauges, so every replica reports the same fleet-wide figures.
 * - `lessor_rollout_halts_total{reason}` and span events: a decorator of the rollout's
 *   `RolloutEvents` (the news of committed phase and member changes). A halt is counted by the
 *   replica whose tick decided it; like the events, one lost to a crash between the commit and the
 *   news is not counted.
 * The rollout's own spans come from its workflow run: `workflow rollout` (under the request that
 * created or resumed it) with a `step tick:N` span per tick; the events below land on the tick's
 * span, and the reconciles of the member tenants a tick changed are children of that span.
 */
import { Gauge, type Registry } from 'prom-client';
import type { CounterPort } from '../../domain/metrics.js';
import type { Logger } from '../../domain/logger.js';
import {
  FINAL_ROLLOUT_PHASES,
  MEMBER_STATES,
  ROLLOUT_PHASES,
  type Rollout,
  type RolloutPhase,
} from '../../domain/rollout.js';
import { addSpanEvent } from '../../domain/tracing.js';
import type { RolloutRepository } from '../../store/store.js';
import type { RolloutEvents } from '../../rollouts/rollout-events.js';
import { CachedSnapshot } from './cached-snapshot.js';
import { createRolloutMetrics } from './prom-metrics.js';

export const ROLLOUT_METRIC_NAMES = {
  active: 'lessor_rollouts_active',
  tenants: 'lessor_rollout_tenants',
  halts: 'lessor_rollout_halts_total',
} as const;

/** `reason` label values: which failure-policy limit halted the rollout. */
export type HaltReasonLabel = 'max_failed_percent' | 'max_failed' | 'other';

const ACTIVE_PHASES = ROLLOUT_PHASES.filter((phase) => !FINAL_ROLLOUT_PHASES.includes(phase));
const PAGE = 200;

interface Snapshot {
  readonly active: number;
  readonly tenants: Readonly<Record<string, number>>;
}

export interface RolloutGaugeOptions {
  readonly rollouts: Pick<RolloutRepository, 'list' | 'tallies'>;
  readonly refreshIntervalMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** Active rollouts and their members by state, paging through the rollouts of each active phase. */
async function readRolloutCounts(rollouts: RolloutGaugeOptions['rollouts']): Promise<Snapshot> {
  const tenants: Record<string, number> = Object.fromEntries(MEMBER_STATES.map((s) => [s, 0]));
  let active = 0;
  for (const phase of ACTIVE_PHASES) {
    let cursor: string | undefined;
    do {
      const page = await rollouts.list({ limit: PAGE, cursor, phase });
      for (const rollout of page.items) {
        active += 1;
        for (const row of await rollouts.tallies(rollout.id))
          tenants[row.state] = (tenants[row.state] ?? 0) + row.count;
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
  return { active, tenants };
}

/** The two store-read gauges, and the halt counter (returned for `meteredRolloutEvents`). */
export function registerRolloutMetrics(
  registry: Registry,
  options: RolloutGaugeOptions,
): CounterPort<'reason'> {
  const snapshot = new CachedSnapshot({
    ...options,
    what: 'rollout counts',
    read: () => readRolloutCounts(options.rollouts),
  });
  new Gauge({
    name: ROLLOUT_METRIC_NAMES.active,
    help: 'Rollouts not in a final phase (pending, running, paused, halted, rolling back; cached)',
    registers: [registry],
    async collect() {
      const value = await snapshot.get();
      if (value) this.set(value.active);
    },
  });
  new Gauge({
    name: ROLLOUT_METRIC_NAMES.tenants,
    help: 'Members of the rollouts not in a final phase, by their rollout state (cached)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const value = await snapshot.get();
      if (!value) return;
      for (const state of MEMBER_STATES) this.set({ state }, value.tenants[state] ?? 0);
    },
  });
  return createRolloutMetrics(registry).halts;
}

/**
 * Counts halts and adds span events (`rollout.phase_changed`, `rollout.member_changed`: as the
 * member's event is built for the transaction that writes it) on the active span, then passes the
 * news on.
 */
export function meteredRolloutEvents(events: RolloutEvents, halts: CounterPort<'reason'>): RolloutEvents {
  return {
    async phaseChanged(rollout, from) {
      const to = rollout.control.phase;
      if (isHalt(from, rollout)) halts.inc({ reason: haltReasonLabel(rollout.control.haltReason) });
      addSpanEvent('rollout.phase_changed', {
        'lessor.rollout.id': rollout.id,
        'lessor.rollout.phase': to,
        'lessor.rollout.previous_phase': from,
        ...(rollout.control.haltReason !== null && {
          'lessor.rollout.halt_reason': rollout.control.haltReason,
        }),
      });
      await events.phaseChanged(rollout, from);
    },
    memberEvent(rollout, member) {
      addSpanEvent('rollout.member_changed', {
        'lessor.rollout.id': rollout.id,
        'lessor.tenant.id': member.tenantId,
        'lessor.rollout.wave': member.wave,
        'lessor.rollout.member_state': member.state,
        ...(member.error && { 'lessor.rollout.error_code': member.error.code }),
      });
      return events.memberEvent(rollout, member);
    },
  };
}

/**
 * The failure policy halts only a running rollout: to `halted` (`onHalt: pause`) or to
 * `rollingBack` with a halt reason (`onHalt: rollback`; an operator's rollback carries none).
 */
function isHalt(from: RolloutPhase, rollout: Rollout): boolean {
  const to = rollout.control.phase;
  return (
    from === 'running' && (to === 'halted' || (to === 'rollingBack' && rollout.control.haltReason !== null))
  );
}

/**
 * The halt reason is text for humans (src/domain/rollout-scheduler.ts, `haltReason`): a wave over
 * `maxFailedPercent` names its wave, the total over `maxFailed` does not. A test pins this reading
 * to the scheduler's wording.
 */
export function haltReasonLabel(reason: string | null): HaltReasonLabel {
  if (reason === null) return 'other';
  if (/^wave \d+: /.test(reason)) return 'max_failed_percent';
  if (/^\d+ tenants failed \(more than \d+\)$/.test(reason)) return 'max_failed';
  return 'other';
}
