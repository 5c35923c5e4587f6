/**
 * Model-based test of the wave scheduler: random fleets, wave lists, failure patterns and operator
 * commands drive a simulated rollout through `decide` and `applyCommand`; after every step the
 * invariants are checked against the simulation's own bookkeeping (wave order, halt rule,
 * exactly-once per member, parallelism bound, counts add up, and that a rollout ends).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  applyCommand,
  decide,
  waveEnds,
  waveOf,
  type RolloutCommand,
  type WaveTally,
} from './rollout-scheduler.js';
import {
  initialControl,
  type FailurePolicy,
  type MemberState,
  type RolloutControl,
  type RolloutStrategy,
  type WaveTarget,
} from './rollout.js';

type Outcome = 'succeed' | 'fail' | 'skip';
type Action =
  | { readonly kind: 'tick' }
  | { readonly kind: 'settle'; readonly picks: readonly number[] }
  | { readonly kind: 'command'; readonly command: RolloutCommand };

interface Sim {
  readonly strategy: RolloutStrategy;
  readonly policy: FailurePolicy;
  readonly ends: readonly number[];
  readonly outcomes: readonly Outcome[];
  readonly states: MemberState[];
  /** Whether the member's change was applied (a start that did not end skipped). */
  readonly changed: boolean[];
  readonly starts: number[];
  readonly rollbacks: number[];
  control: RolloutControl;
}

const waveTarget: fc.Arbitrary<WaveTarget> = fc.oneof(
  fc.integer({ min: 0, max: 90 }),
  fc.integer({ min: 1, max: 100 }).map((p) => `${p}%` as const),
);

const scenario = fc.record({
  outcomes: fc.array(fc.constantFrom<Outcome>('succeed', 'succeed', 'succeed', 'fail', 'skip'), {
    maxLength: 70,
  }),
  waves: fc.array(waveTarget, { minLength: 1, maxLength: 5 }),
  maxParallel: fc.integer({ min: 1, max: 12 }),
  pauseAfterWaves: fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  maxFailedPercent: fc.option(fc.integer({ min: 0, max: 60 }), { nil: null }),
  maxFailed: fc.option(fc.integer({ min: 0, max: 8 }), { nil: null }),
  onHalt: fc.constantFrom<'pause' | 'rollback'>('pause', 'rollback'),
  actions: fc.array(
    fc.oneof(
      { weight: 5, arbitrary: fc.constant<Action>({ kind: 'tick' }) },
      {
        weight: 5,
        arbitrary: fc
          .array(fc.nat(70), { maxLength: 12 })
          .map((picks): Action => ({ kind: 'settle', picks })),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom<RolloutCommand>('pause', 'resume', 'promote', 'abort', 'rollback')
          .map((command): Action => ({ kind: 'command', command })),
      },
    ),
    { maxLength: 80 },
  ),
});

function tallies(sim: Sim): WaveTally[] {
  return sim.ends.map((end, wave) => {
    const start = wave === 0 ? 0 : (sim.ends[wave - 1] ?? 0);
    const count = (state: MemberState): number =>
      sim.states.slice(start, end).filter((s) => s === state).length;
    let rollbackable = 0;
    for (let i = start; i < end; i++) {
      const state = sim.states[i];
      if (sim.changed[i] && (state === 'succeeded' || state === 'failed')) rollbackable++;
    }
    return {
      size: end - start,
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

/** The halt rule written again, independently, from the member states. */
function shouldHalt(sim: Sim): boolean {
  const { policy, control } = sim;
  let total = 0;
  for (const [wave, end] of sim.ends.entries()) {
    const start = wave === 0 ? 0 : (sim.ends[wave - 1] ?? 0);
    const failed = sim.states.slice(start, end).filter((s) => s === 'failed').length;
    total += failed;
    const beyond = failed - (control.acknowledgedFailed[wave] ?? 0);
    if (
      policy.maxFailedPercent !== null &&
      beyond > 0 &&
      beyond / (end - start) > policy.maxFailedPercent / 100
    ) {
      return true;
    }
  }
  return policy.maxFailed !== null && total - control.acknowledgedFailedTotal > policy.maxFailed;
}

function tick(sim: Sim): boolean {
  const halt = sim.control.phase === 'running' && shouldHalt(sim);
  const decision = decide(sim.strategy, sim.policy, sim.control, tallies(sim));
  if (halt) {
    assert.equal(decision.startCount, 0, 'a halt starts nothing');
    assert.ok(['halted', 'rollingBack'].includes(decision.control.phase), 'the halt rule fires');
  }
  if (decision.startCount > 0) {
    assert.equal(decision.control.phase, 'running');
    const inFlight = sim.states.filter((s) => s === 'inProgress').length;
    assert.ok(inFlight + decision.startCount <= sim.strategy.maxParallel, 'maxParallel holds');
    const start = decision.currentWave === 0 ? 0 : (sim.ends[decision.currentWave - 1] ?? 0);
    for (let i = 0; i < start; i++) {
      assert.ok(
        !['pending', 'inProgress'].includes(sim.states[i] ?? ''),
        `wave order: member ${i} is settled`,
      );
    }
    const pending = [...sim.states.keys()].filter(
      (i) => sim.states[i] === 'pending' && waveOf(sim.ends, i) === decision.currentWave,
    );
    assert.ok(pending.length >= decision.startCount);
    for (const i of pending.slice(0, decision.startCount)) {
      assert.ok(!sim.starts.includes(i), `member ${i} starts once`);
      sim.starts.push(i);
      sim.states[i] = 'inProgress';
    }
  }
  if (decision.rollbackCount > 0) {
    assert.equal(decision.control.phase, 'rollingBack');
    assert.equal(
      sim.states.filter((s) => s === 'inProgress').length,
      0,
      'rollback waits for in-flight members',
    );
    const candidates = [...sim.states.keys()].filter(
      (i) => sim.changed[i] && (sim.states[i] === 'succeeded' || sim.states[i] === 'failed'),
    );
    for (const i of candidates.slice(0, decision.rollbackCount)) {
      assert.ok(!sim.rollbacks.includes(i), `member ${i} rolls back once`);
      sim.rollbacks.push(i);
      sim.states[i] = 'rollingBack';
    }
  }
  sim.control = decision.control;
  return decision.done;
}

function settle(sim: Sim, picks: readonly number[]): void {
  for (const pick of picks) {
    const i = pick % Math.max(1, sim.states.length);
    if (sim.states[i] === 'inProgress') {
      const outcome = sim.outcomes[i];
      sim.states[i] = outcome === 'succeed' ? 'succeeded' : outcome === 'fail' ? 'failed' : 'skipped';
      sim.changed[i] = outcome !== 'skip';
    } else if (sim.states[i] === 'rollingBack') {
      sim.states[i] = 'rolledBack';
    }
  }
}

function command(sim: Sim, which: RolloutCommand): void {
  const before = sim.control;
  const result = applyCommand(sim.strategy, sim.control, which, tallies(sim));
  if (!result.ok) return;
  sim.control = result.control;
  if (which === 'abort') assert.equal(sim.control.phase, 'aborted');
  if (which === 'rollback') assert.equal(sim.control.phase, 'rollingBack');
  if (which === 'pause' && before.phase === 'running') assert.equal(sim.control.phase, 'paused');
}

function checkCounts(sim: Sim): void {
  const all = tallies(sim);
  const counted = all.reduce(
    (n, t) =>
      n + t.pending + t.inProgress + t.succeeded + t.failed + t.skipped + t.rollingBack + t.rolledBack,
    0,
  );
  assert.equal(counted, sim.states.length, 'counts add up');
  assert.equal(
    all.reduce((n, t) => n + t.size, 0),
    sim.states.length,
    'wave sizes add up',
  );
}

/** Settles everything and answers every pause until the rollout ends; it must end. */
function drain(sim: Sim): void {
  for (let round = 0; round < 2_000; round++) {
    settle(sim, [...sim.states.keys()]);
    if (tick(sim)) return;
    if (sim.control.phase === 'paused') command(sim, 'resume');
    if (sim.control.phase === 'halted') command(sim, round % 2 === 0 ? 'resume' : 'rollback');
  }
  assert.fail(`the rollout did not end (phase ${sim.control.phase})`);
}

describe('rollout wave scheduler (model)', () => {
  it('keeps wave order, the halt rule, exactly-once and the counts for random fleets and commands', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const ends = waveEnds(s.outcomes.length, s.waves);
        const sim: Sim = {
          strategy: {
            waves: s.waves,
            maxParallel: s.maxParallel,
            minHealthyMs: 0,
            progressDeadlineMs: 1,
            pauseAfterWaves: s.pauseAfterWaves,
          },
          policy: { maxFailedPercent: s.maxFailedPercent, maxFailed: s.maxFailed, onHalt: s.onHalt },
          ends,
          outcomes: s.outcomes,
          states: s.outcomes.map((): MemberState => 'pending'),
          changed: s.outcomes.map(() => false),
          starts: [],
          rollbacks: [],
          control: initialControl(),
        };
        for (const action of s.actions) {
          if (action.kind === 'tick') tick(sim);
          else if (action.kind === 'settle') settle(sim, action.picks);
          else command(sim, action.command);
          checkCounts(sim);
        }
        drain(sim);
        checkCounts(sim);
        const final = sim.control.phase;
        assert.ok(['succeeded', 'aborted', 'rolledBack'].includes(final), `final phase ${final}`);
        if (final === 'succeeded') {
          assert.ok(sim.states.every((st) => ['succeeded', 'failed', 'skipped'].includes(st)));
        }
        if (final === 'rolledBack') {
          assert.ok(
            sim.states.every((st, i) => !sim.changed[i] || st === 'rolledBack'),
            'every change rolled back',
          );
        }
        assert.ok(
          sim.states.every((st) => st !== 'inProgress' && st !== 'rollingBack'),
          'nothing left in flight',
        );
      }),
      { numRuns: 400 },
    );
  });

  it('cuts waves cumulatively, the last taking the rest', () => {
    const cases = [
      {
        reason: 'the example of the docs',
        total: 10_000,
        waves: [1, '10%', '100%'] as WaveTarget[],
        ends: [1, 1000, 10_000],
      },
      {
        reason: 'a shrinking target never goes back',
        total: 10,
        waves: [5, 2, 3] as WaveTarget[],
        ends: [5, 5, 10],
      },
      { reason: 'percent rounds up', total: 7, waves: ['10%', '50%'] as WaveTarget[], ends: [1, 7] },
      { reason: 'no members', total: 0, waves: [1, '100%'] as WaveTarget[], ends: [0, 0] },
      { reason: 'a count past the total', total: 3, waves: [10, 20] as WaveTarget[], ends: [3, 3] },
    ];
    for (const c of cases) assert.deepEqual(waveEnds(c.total, c.waves), c.ends, c.reason);
  });
});
