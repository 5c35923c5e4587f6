/**
 * One tick of a rollout, from current state only (safe to run again at any moment, and from two
 * runs at once): watch the members in flight and settle those whose tenant says so, tally the
 * members by wave, ask the wave scheduler what happens next, save the control state
 * (compare-and-set: an operator's command that landed meanwhile wins, and the next tick decides
 * again), then start the members the scheduler asked for. Every start goes through
 * `FleetTenantChanger`, which changes a member at most once; so does a rollback.
 *
 * `drive` is what one workflow step runs: ticks, one after the other, for up to `stepMs`. Between
 * two ticks it waits until a member's tenant run ends in this process (`MemberWakeups`) or the
 * fallback poll (`pollMs`) comes round. A woken tick reads only the members of the tenants whose
 * runs ended and keeps the tallies it read last, moved by the member changes it committed itself; the
 * fallback tick reads every member in flight and the tallies again (docs/decisions.md, "A rollout
 * ticks when its members' runs end").
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
import type { MemberWakeups } from './member-wakeups.js';
import type { RolloutEvents } from './rollout-events.js';
import { rolloutWebhookOf, type ChangeRedactor } from './rollout-view.js';

export interface RolloutDriverDeps {
  readonly rollouts: RolloutRepository;
  readonly changer: FleetTenantChanger;
  readonly events: RolloutEvents;
  /** Masks secret values of the change in the resource a webhook event carries. */
  readonly redact: ChangeRedactor;
  /**
   * Fallback poll: the longest pause between two ticks while members are in flight, and how often
   * a step reads every member in flight and the tallies again.
   */
  readonly pollMs: number;
  /** Tenant runs that ended in this process; without them a step ticks once and pauses `pollMs`. */
  readonly wakeups?: MemberWakeups;
  /** Shortest pause between two ticks of a step, so that runs ending together are read together. */
  readonly tickSpacingMs?: number;
  /** How long a step keeps ticking before it hands back to the workflow. */
  readonly stepMs?: number;
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
/** Tenants named per read of a woken tick (the store looks at up to 200 per read). */
const WOKEN_PAGE = 200;
const DEFAULT_TICK_SPACING_MS = 50;
const DEFAULT_STEP_MS = 5_000;

/**
 * What a step knows between the tallies it read: member counts by wave and state, moved by every
 * member change it committed since. `stale` once a change of someone else's showed (a
 * compare-and-set lost): the next tick reads everything again.
 */
interface StepView {
  readonly tallies: Map<string, MemberTally>;
  stale: boolean;
  /** When the earliest member seen waiting out `minHealthyMs` is due, or null. */
  healthDueAt: number | null;
}

/** Which members a tick watches: every one in flight, or those of the tenants named. */
type Watch = { readonly kind: 'all' } | { readonly kind: 'tenants'; readonly tenantIds: readonly string[] };

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
    return (await this.tickWith(rolloutId, run, trace, { kind: 'all' }, undefined)).result;
  }

  /**
   * Ticks for up to `stepMs` (once when there are no wake-ups, or they have stopped), each tick
   * after a member's run ended or the fallback poll came round; returns the last tick's result,
   * with no pause when the step ended on its budget. Safe to run again at any moment, as `tick`.
   */
  async drive(rolloutId: string, run: number, trace?: TraceContext): Promise<TickResult> {
    const { wakeups, pollMs } = this.deps;
    if (!wakeups || wakeups.isStopped) return this.tick(rolloutId, run, trace);
    const spacingMs = this.deps.tickSpacingMs ?? DEFAULT_TICK_SPACING_MS;
    const stepMs = this.deps.stepMs ?? DEFAULT_STEP_MS;
    const subscription = wakeups.subscribe();
    try {
      const started = this.now();
      let view: StepView | undefined;
      let fullAt = started;
      for (;;) {
        const tickAt = this.now();
        const news = subscription.take();
        // Everything is read again on the fallback poll, once a member waiting out `minHealthyMs`
        // is due (its tenant will not wake the step again), and after news too large to name.
        const due = (view?.healthDueAt ?? Infinity) <= tickAt;
        const full =
          view === undefined || view.stale || due || news.kind === 'all' || tickAt - fullAt >= pollMs;
        if (full) fullAt = tickAt;
        const ticked = await this.tickWith(rolloutId, run, trace, full ? { kind: 'all' } : news, view);
        view = ticked.view;
        const { result } = ticked;
        const now = this.now();
        if (result.done || wakeups.isStopped) return result;
        if (now - started >= stepMs) return { ...result, waitMs: 0 };
        const dueAt = Math.min(fullAt + pollMs, view?.healthDueAt ?? Infinity);
        await sleep(Math.min(spacingMs, Math.max(0, dueAt - now)));
        await subscription.wait(Math.max(0, dueAt - this.now()));
      }
    } finally {
      subscription.close();
    }
  }

  private async tickWith(
    rolloutId: string,
    run: number,
    trace: TraceContext | undefined,
    watch: Watch,
    known: StepView | undefined,
  ): Promise<{ result: TickResult; view?: StepView }> {
    const rollout = await this.deps.rollouts.get(rolloutId);
    if (!rollout) return { result: { done: true, phase: 'aborted', waitMs: 0 } };
    const { phase } = rollout.control;
    if (rollout.control.run > run) return { result: { done: true, phase, waitMs: 0 } };
    const moves: MemberMove[] = [];
    let healthDueAt: number | null = null;
    let lost = false;
    for (const state of ['inProgress', 'rollingBack'] as const) {
      const watched = await this.watchInFlight(rollout, state, watch, trace);
      moves.push(...watched.moves);
      lost ||= watched.lost;
      healthDueAt = earliest(healthDueAt, watched.healthDueAt);
    }
    let view: StepView;
    if (watch.kind === 'all' || !known) {
      const rows = await this.deps.rollouts.tallies(rollout.id);
      view = {
        tallies: new Map(rows.map((row) => [tallyKey(row.wave, row.state), row])),
        stale: lost,
        healthDueAt,
      };
    } else {
      view = known;
      view.stale ||= lost;
      view.healthDueAt = earliest(view.healthDueAt, healthDueAt);
      for (const move of moves) moveTally(view.tallies, move);
    }
    const tallies = waveTallies(rollout, [...view.tallies.values()]);
    const decision = decide(rollout.strategy, rollout.failurePolicy, rollout.control, tallies);
    const saved = await this.save(rollout, decision, tallies, trace);
    if (!saved) return { result: { done: false, phase, waitMs: 0 } };
    for (const move of await this.startMembers(saved, decision, trace)) moveTally(view.tallies, move);
    const inFlight = tallies.some((t) => t.inProgress + t.rollingBack > 0);
    const next = saved.control.phase;
    const idle = (next === 'paused' || next === 'halted') && !inFlight && decision.startCount === 0;
    return { result: { done: decision.done || idle, phase: next, waitMs: this.deps.pollMs }, view };
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

  /** Starts (or rolls back) the members the decision names; returns how each one moved. */
  private async startMembers(
    rollout: Rollout,
    decision: Decision,
    trace: TraceContext | undefined,
  ): Promise<MemberMove[]> {
    // The event decorator records a span event on the active context: the tick's, while it runs.
    const eventOf = (member: RolloutMember) =>
      withContext(trace, () => this.deps.events.memberEvent(rollout, member));
    const moves: MemberMove[] = [];
    // A member is read in its old state and comes back in the state it has now, whoever moved it:
    // one move either way, as the rows have it.
    const moved = (before: RolloutMember, after: RolloutMember) => {
      if (after.state !== before.state) moves.push(moveOf(before, after));
    };
    if (decision.startCount > 0) {
      const page = await this.deps.rollouts.members(rollout.id, {
        state: 'pending',
        wave: decision.currentWave,
        limit: decision.startCount,
      });
      for (const member of page.items) {
        moved(member, await this.deps.changer.apply(rollout, member, eventOf, trace));
      }
    }
    if (decision.rollbackCount > 0) {
      for (const member of await this.deps.rollouts.rollbackable(rollout.id, decision.rollbackCount)) {
        moved(member, await this.deps.changer.rollBack(rollout, member, eventOf, trace));
      }
    }
    return moves;
  }

  /**
   * Reads the members in `state` with their tenants' status (one statement per page) and writes
   * what changed for them, with their events, in one transaction per page.
   */
  private async watchInFlight(
    rollout: Rollout,
    state: 'inProgress' | 'rollingBack',
    watch: Watch,
    trace: TraceContext | undefined,
  ): Promise<{ moves: MemberMove[]; lost: boolean; healthDueAt: number | null }> {
    const moves: MemberMove[] = [];
    let lost = false;
    let healthDueAt: number | null = null;
    const { minHealthyMs } = rollout.strategy;
    // Every member in flight, page by page; or the woken tenants' members, a page of tenants at a time.
    const woken = watch.kind === 'tenants' ? watch.tenantIds : undefined;
    let cursor: string | undefined;
    let offset = 0;
    do {
      const tenantIds = woken?.slice(offset, offset + WOKEN_PAGE);
      offset += WOKEN_PAGE;
      const page = await this.deps.rollouts.watchedMembers(rollout.id, {
        state,
        limit: PAGE,
        cursor,
        tenantIds,
      });
      const now = this.now();
      const updates: MemberUpdate[] = [];
      const byOrdinal = new Map<number, MemberMove>();
      for (const { member, tenant } of page.items) {
        const patch = memberPatch(rollout, member, tenant, now);
        const waitingSince = patch?.healthySince !== undefined ? patch.healthySince : member.healthySince;
        if (patch?.state === undefined && waitingSince !== null) {
          healthDueAt = earliest(healthDueAt, Date.parse(waitingSince) + minHealthyMs);
        }
        if (patch === null) continue;
        if (patch.state !== undefined) byOrdinal.set(member.ordinal, moveOf(member, { ...member, ...patch }));
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
      if (updates.length > 0) {
        const updated = await this.deps.rollouts.updateMembers(rollout.id, updates);
        lost ||= updated.size < updates.length;
        for (const [ordinal, move] of byOrdinal) if (updated.has(ordinal)) moves.push(move);
      }
      cursor = page.nextCursor ?? undefined;
    } while (woken === undefined ? cursor !== undefined : offset < woken.length);
    return { moves, lost, healthDueAt };
  }
}

/** A member's move from one state to another, as the tallies count it. */
interface MemberMove {
  readonly wave: number;
  readonly from: MemberState;
  readonly to: MemberState;
  /** Whether the member counted as changed (`changed` of the tallies) before and after. */
  readonly changedBefore: boolean;
  readonly changedAfter: boolean;
}

function moveOf(before: RolloutMember, after: RolloutMember): MemberMove {
  return {
    wave: before.wave,
    from: before.state,
    to: after.state,
    changedBefore: before.toGeneration !== null,
    changedAfter: after.toGeneration !== null,
  };
}

function tallyKey(wave: number, state: MemberState): string {
  return `${wave}:${state}`;
}

function moveTally(tallies: Map<string, MemberTally>, move: MemberMove): void {
  const shift = (state: MemberState, count: number, changed: number) => {
    const key = tallyKey(move.wave, state);
    const row = tallies.get(key) ?? { wave: move.wave, state, count: 0, changed: 0 };
    tallies.set(key, { ...row, count: row.count + count, changed: row.changed + changed });
  };
  shift(move.from, -1, move.changedBefore ? -1 : 0);
  shift(move.to, 1, move.changedAfter ? 1 : 0);
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.min(a, b);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
