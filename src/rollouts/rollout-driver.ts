/**
 * One tick of a rollout, from current state only (safe to run again at any moment, and from two
 * runs at once): watch the members in flight and settle those whose tenant says so, tally the
 * members by wave, ask the wave scheduler what happens next, save the control state
 * (compare-and-set: an operator's command that landed meanwhile wins, and the next tick decides
 * again), then start the members the scheduler asked for. Every start goes through
 * `FleetTenantChanger`, which changes a member at most once; so does a rollback.
 */
import { withContext, type TraceContext } from '../domain/tracing.js';
import { PreconditionFailedError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import {
  FINAL_ROLLOUT_PHASES,
  type MemberState,
  type Rollout,
  type RolloutMember,
  type RolloutPhase,
} from '../domain/rollout.js';
import { decide, waveEnds, type Decision, type WaveTally } from '../domain/rollout-scheduler.js';
import type {
  MemberPatch,
  MemberTally,
  MemberUpdate,
  RolloutRepository,
  WatchedMember,
} from '../store/store.js';
import type { FleetTenantChanger } from './fleet-tenant-changer.js';
import { observeMember } from './member-watch.js';
import type { RolloutEvents } from './rollout-events.js';
import { rolloutWebhookOf, type ChangeRedactor } from './rollout-view.js';

export interface RolloutDriverDeps {
  readonly rollouts: RolloutRepository;
  readonly changer: FleetTenantChanger;
  readonly events: RolloutEvents;
  /** Masks secret values of the change in the resource a webhook event carries. */
  readonly redact: ChangeRedactor;
  /** Pause between ticks while members are in flight. */
  readonly pollMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface TickResult {
  /** The run may end: the rollout is final, idle (paused/halted, nothing in flight) or driven by a newer run. */
  readonly done: boolean;
  readonly phase: RolloutPhase;
  readonly waitMs: number;
}

/** Members read per page while watching those in flight. */
const PAGE = 500;

export class RolloutDriver {
  private readonly now: () => number;

  constructor(private readonly deps: RolloutDriverDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * `trace`: the tick step's trace context. Its events are recorded on it and the reconciles of the
   * members it changes are its children: it is passed along explicitly (src/domain/tracing.ts).
   */
  async tick(rolloutId: string, run: number, trace?: TraceContext): Promise<TickResult> {
    const rollout = await this.deps.rollouts.get(rolloutId);
    if (!rollout) return { done: true, phase: 'aborted', waitMs: 0 };
    const { phase } = rollout.control;
    if (rollout.control.run > run) return { done: true, phase, waitMs: 0 };
    await this.watchInFlight(rollout, 'inProgress', trace);
    await this.watchInFlight(rollout, 'rollingBack', trace);
    const tallies = waveTallies(rollout, await this.deps.rollouts.tallies(rollout.id));
    const decision = decide(rollout.strategy, rollout.failurePolicy, rollout.control, tallies);
    const saved = await this.save(rollout, decision, tallies, trace);
    if (!saved) return { done: false, phase, waitMs: 0 };
    await this.startMembers(saved, decision, trace);
    const inFlight = tallies.some((t) => t.inProgress + t.rollingBack > 0);
    const next = saved.control.phase;
    const idle = (next === 'paused' || next === 'halted') && !inFlight && decision.startCount === 0;
    return { done: decision.done || idle, phase: next, waitMs: this.deps.pollMs };
  }

  /** Events are news of committed changes: one that cannot be written is logged, never retried. */
  private async tell(write: () => Promise<void>, trace: TraceContext | undefined): Promise<void> {
    try {
      // Active while the event decorator runs synchronously: it records the span event on entry.
      await withContext(trace, write);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'a rollout event could not be written; the change stands');
    }
  }

  /** Saves control and wave times when they changed; undefined when a command won the race. */
  private async save(
    rollout: Rollout,
    decision: Decision,
    tallies: readonly WaveTally[],
    trace: TraceContext | undefined,
  ): Promise<Rollout | undefined> {
    const waveTimes = nextWaveTimes(rollout, decision, tallies, new Date(this.now()).toISOString());
    const same =
      JSON.stringify(decision.control) === JSON.stringify(rollout.control) &&
      JSON.stringify(waveTimes) === JSON.stringify(rollout.waveTimes);
    if (same) return rollout;
    try {
      const saved = await this.deps.rollouts.saveControl(
        rollout.id,
        { control: decision.control, waveTimes },
        rollout.version,
        (next) => rolloutWebhookOf(next, rollout.control.phase, tallies, this.deps.redact),
      );
      if (saved.control.phase !== rollout.control.phase) {
        await this.tell(() => this.deps.events.phaseChanged(saved, rollout.control.phase), trace);
      }
      return saved;
    } catch (error) {
      if (error instanceof PreconditionFailedError) return undefined;
      throw error;
    }
  }

  private async startMembers(
    rollout: Rollout,
    decision: Decision,
    trace: TraceContext | undefined,
  ): Promise<void> {
    // The event decorator records a span event on the active context: the tick's, while it runs.
    const eventOf = (member: RolloutMember) =>
      withContext(trace, () => this.deps.events.memberEvent(rollout, member));
    if (decision.startCount > 0) {
      const page = await this.deps.rollouts.members(rollout.id, {
        state: 'pending',
        wave: decision.currentWave,
        limit: decision.startCount,
      });
      for (const member of page.items) await this.deps.changer.apply(rollout, member, eventOf, trace);
    }
    if (decision.rollbackCount > 0) {
      for (const member of await this.deps.rollouts.rollbackable(rollout.id, decision.rollbackCount)) {
        await this.deps.changer.rollBack(rollout, member, eventOf, trace);
      }
    }
  }

  /**
   * Reads the members in `state` with their tenants' status (one statement per page) and writes
   * what changed for them, with their events, in one transaction per page.
   */
  private async watchInFlight(
    rollout: Rollout,
    state: 'inProgress' | 'rollingBack',
    trace: TraceContext | undefined,
  ): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.deps.rollouts.watchedMembers(rollout.id, { state, limit: PAGE, cursor });
      const now = this.now();
      const updates: MemberUpdate[] = [];
      for (const { member, tenant } of page.items) {
        const patch = memberPatch(rollout, member, tenant, now);
        if (patch === null) continue;
        const event =
          patch.state === undefined
            ? undefined
            : withContext(trace, () => this.deps.events.memberEvent(rollout, { ...member, ...patch }));
        updates.push({
          ordinal: member.ordinal,
          tenantId: member.tenantId,
          from: member.state,
          patch,
          event,
        });
      }
      if (updates.length > 0) await this.deps.rollouts.updateMembers(rollout.id, updates);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
}

/** What watching `member` (changed or rolling back) at `now` changes on it; null: nothing. */
function memberPatch(
  rollout: Rollout,
  member: RolloutMember,
  tenant: WatchedMember['tenant'],
  now: number,
): MemberPatch | null {
  const rollingBack = member.state === 'rollingBack';
  const target = (rollingBack ? member.rollbackGeneration : member.toGeneration) ?? 0;
  const seen = observeMember(tenant, target);
  const at = new Date(now).toISOString();
  const settled: MemberState = rollingBack ? 'rolledBack' : 'succeeded';
  if (seen.kind === 'gone') {
    const error = { code: 'Skipped', message: seen.reason };
    return { state: rollingBack ? 'rolledBack' : 'skipped', error, finishedAt: at };
  }
  if (seen.kind === 'failed') {
    return { state: rollingBack ? 'rolledBack' : 'failed', error: seen.error, finishedAt: at };
  }
  if (seen.kind === 'ready') {
    const since = member.healthySince === null ? now : Date.parse(member.healthySince);
    if (now - since >= rollout.strategy.minHealthyMs) return { state: settled, finishedAt: at };
    return member.healthySince === null ? { healthySince: at } : null;
  }
  if (now - Date.parse(member.startedAt ?? at) > rollout.strategy.progressDeadlineMs) {
    const error = {
      code: 'ProgressDeadlineExceeded',
      message: `not ready within ${rollout.strategy.progressDeadlineMs} ms`,
    };
    return { state: rollingBack ? 'rolledBack' : 'failed', error, finishedAt: at };
  }
  return member.healthySince !== null ? { healthySince: null } : null;
}

/** Per-wave tallies for the scheduler, every wave present (empty ones too). */
export function waveTallies(rollout: Rollout, rows: readonly MemberTally[]): WaveTally[] {
  const ends = waveEnds(rollout.total, rollout.strategy.waves);
  return ends.map((end, wave) => {
    const mine = rows.filter((row) => row.wave === wave);
    const count = (state: MemberState): number => mine.find((row) => row.state === state)?.count ?? 0;
    const rollbackable = mine
      .filter((row) => row.state === 'succeeded' || row.state === 'failed')
      .reduce((n, row) => n + row.changed, 0);
    return {
      size: end - (wave === 0 ? 0 : (ends[wave - 1] ?? 0)),
      pending: count('pending'),
      inProgress: count('inProgress'),
      succeeded: count('succeeded'),
      failed: count('failed'),
      skipped: count('skipped'),
      rollingBack: count('rollingBack'),
      rolledBack: count('rolledBack'),
      rollbackable,
    };
  });
}

/** A wave starts when its first member does (or when it is reached empty) and finishes once settled. */
function nextWaveTimes(
  rollout: Rollout,
  decision: Decision,
  tallies: readonly WaveTally[],
  at: string,
): Rollout['waveTimes'] {
  if (
    FINAL_ROLLOUT_PHASES.includes(rollout.control.phase) &&
    decision.control.phase === rollout.control.phase
  ) {
    return rollout.waveTimes;
  }
  return tallies.map((tally, wave) => {
    const times = rollout.waveTimes[wave] ?? { startedAt: null, finishedAt: null };
    const reached = wave < decision.currentWave || (wave === decision.currentWave && decision.startCount > 0);
    const startedAt =
      times.startedAt ?? (reached || (tally.size === 0 && wave <= decision.currentWave) ? at : null);
    const settled = tally.pending + tally.inProgress === 0;
    const finishedAt = times.finishedAt ?? (startedAt !== null && settled ? at : null);
    return { startedAt, finishedAt };
  });
}
