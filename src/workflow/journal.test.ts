import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WorkflowStep } from '../domain/workflow-run.js';
import { NonDeterminismError, RunCancelledError, StepFailedError, TerminalWorkflowError } from './context.js';
import {
  Journal,
  outcomeValue,
  stepEntry,
  waitStartedEntry,
  type DurableCall,
  type JournalDecision,
} from './journal.js';
import { serializeError, toJournalValue } from './step-error.js';

const RUN = 'run-1';
const T = { startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:00.010Z', durationMs: 10 };

function entry(
  partial: Partial<WorkflowStep> & Pick<WorkflowStep, 'seq' | 'name' | 'kind' | 'status'>,
): WorkflowStep {
  return {
    runId: RUN,
    result: null,
    error: null,
    startedAt: T.startedAt,
    finishedAt: null,
    durationMs: null,
    ...partial,
  };
}

const journal = new Journal(RUN, [
  entry({ seq: 1, name: 'validate', kind: 'step', status: 'completed', result: { ok: 1 } }),
  entry({
    seq: 2,
    name: 'compute',
    kind: 'step',
    status: 'failed',
    error: { name: 'ComputeError', message: 'boom', details: { code: 'CONFLICT' } },
  }),
  entry({ seq: 3, name: 'half-done', kind: 'step', status: 'started' }),
  entry({ seq: 4, name: 'backoff', kind: 'sleep', status: 'started', result: { wakeAt: 5000 } }),
  entry({ seq: 5, name: 'backoff-2', kind: 'sleep', status: 'completed', result: { wakeAt: 6000 } }),
  entry({
    seq: 6,
    name: 'exec-1',
    kind: 'promise',
    status: 'completed',
    result: { resolved: true, value: { s: 'ok' } },
  }),
  entry({ seq: 7, name: 'exec-2', kind: 'promise', status: 'completed', result: { resolved: false } }),
  entry({ seq: 8, name: 'exec-3', kind: 'promise', status: 'started', result: { deadline: 9000 } }),
  entry({
    seq: 9,
    name: 'stop',
    kind: 'step',
    status: 'failed',
    error: { name: 'TerminalWorkflowError', message: 'no', details: 7 },
  }),
  entry({
    seq: 10,
    name: 'impostor',
    kind: 'step',
    status: 'failed',
    error: {
      kind: 'error',
      name: 'TerminalWorkflowError',
      message: 'a class of the same name',
      details: null,
    },
  }),
  entry({
    seq: 11,
    name: 'gave-up',
    kind: 'step',
    status: 'failed',
    error: { kind: 'terminal', name: 'PolicyExhausted', message: 'no more', details: { tries: 3 } },
  }),
]);

describe('Journal.decide', () => {
  const cases: { reason: string; call: DurableCall; expected: JournalDecision }[] = [
    {
      reason: 'a completed step replays its result',
      call: { seq: 1, name: 'validate', kind: 'step' },
      expected: { type: 'return', value: { ok: 1 } },
    },
    {
      reason: 'a call past the end of the journal executes',
      call: { seq: 20, name: 'new', kind: 'step' },
      expected: { type: 'execute', rerun: false },
    },
    {
      reason: 'a started-but-unfinished step runs again (at-least-once)',
      call: { seq: 3, name: 'half-done', kind: 'step' },
      expected: { type: 'execute', rerun: true },
    },
    {
      reason: 'a started sleep resumes at its journaled wake time, not a new one',
      call: { seq: 4, name: 'backoff', kind: 'sleep' },
      expected: { type: 'sleep-until', wakeAt: 5000 },
    },
    {
      reason: 'a completed sleep is done',
      call: { seq: 5, name: 'backoff-2', kind: 'sleep' },
      expected: { type: 'sleep-done' },
    },
    {
      reason: 'a resolved promise replays its value',
      call: { seq: 6, name: 'exec-1', kind: 'promise' },
      expected: { type: 'promise-settled', outcome: { resolved: true, value: { s: 'ok' } } },
    },
    {
      reason: 'a timed-out promise replays the timeout',
      call: { seq: 7, name: 'exec-2', kind: 'promise' },
      expected: { type: 'promise-settled', outcome: { resolved: false } },
    },
    {
      reason: 'a wait in progress keeps its original deadline',
      call: { seq: 8, name: 'exec-3', kind: 'promise' },
      expected: { type: 'promise-wait', deadline: 9000 },
    },
  ];
  for (const { reason, call, expected } of cases) {
    test(reason, () => assert.deepEqual(journal.decide(call), expected));
  }

  const mismatches: { reason: string; call: DurableCall }[] = [
    { reason: 'a renamed step', call: { seq: 1, name: 'validate-v2', kind: 'step' } },
    { reason: 'a step replaced by a sleep', call: { seq: 1, name: 'validate', kind: 'sleep' } },
    {
      reason: 'a promise replaced by a step of the same name',
      call: { seq: 6, name: 'exec-1', kind: 'step' },
    },
  ];
  for (const { reason, call } of mismatches) {
    test(`non-determinism: ${reason}`, () => assert.throws(() => journal.decide(call), NonDeterminismError));
  }

  test('a failed step replays as StepFailedError with the original name, message and details', () => {
    const decision = journal.decide({ seq: 2, name: 'compute', kind: 'step' });
    assert.equal(decision.type, 'throw');
    const error = (decision as { error: Error }).error;
    assert.ok(error instanceof StepFailedError);
    assert.deepEqual(
      [error.stepName, error.errorName, error.message, error.details],
      ['compute', 'ComputeError', 'boom', { code: 'CONFLICT' }],
    );
  });

  test('an entry journaled before errors had a kind replays by the name its class had then', () => {
    const decision = journal.decide({ seq: 9, name: 'stop', kind: 'step' });
    const error = (decision as { error: Error }).error;
    assert.ok(error instanceof TerminalWorkflowError);
    assert.equal(error.details, 7);
  });

  test("the journaled kind decides, not the error's name", () => {
    const impostor = (journal.decide({ seq: 10, name: 'impostor', kind: 'step' }) as { error: Error }).error;
    assert.ok(impostor instanceof StepFailedError, 'an error merely named TerminalWorkflowError');
    assert.equal(impostor.errorName, 'TerminalWorkflowError');
    const terminal = (journal.decide({ seq: 11, name: 'gave-up', kind: 'step' }) as { error: Error }).error;
    assert.ok(terminal instanceof TerminalWorkflowError);
    assert.deepEqual([terminal.message, terminal.details], ['no more', { tries: 3 }]);
  });

  test('a wait entry without its time is reported, not guessed', () => {
    const broken = new Journal(RUN, [
      entry({ seq: 1, name: 's', kind: 'sleep', status: 'started', result: {} }),
    ]);
    assert.throws(() => broken.decide({ seq: 1, name: 's', kind: 'sleep' }), /has no 'wakeAt'/);
  });
});

describe('Journal.begunWith', () => {
  test("tells a run by its first entry's name: what `begunBefore` asks on the embedded engine", () => {
    assert.equal(journal.begunWith('validate'), true);
    assert.equal(journal.begunWith('compute'), false, 'only the first entry counts');
    assert.equal(new Journal(RUN, []).begunWith('validate'), false, 'a run that journaled nothing');
    const started = new Journal(RUN, [entry({ seq: 1, name: 'load', kind: 'step', status: 'started' })]);
    assert.equal(started.begunWith('load'), true, 'a step journaled started counts too');
  });
});

describe('journal entries', () => {
  test('stepEntry journals a result or an error in one entry', () => {
    const call = { seq: 3, name: 'x', kind: 'step' } as const;
    const ok = stepEntry(RUN, call, { ok: true, value: 5 }, T);
    const error = { kind: 'error', name: 'E', message: 'm', details: null } as const;
    const failed = stepEntry(RUN, call, { ok: false, error }, T);
    assert.deepEqual([ok.status, ok.result, ok.error, ok.durationMs], ['completed', 5, null, 10]);
    assert.deepEqual([failed.status, failed.result, failed.error], ['failed', null, error]);
  });

  test('waitStartedEntry round-trips through decide', () => {
    const sleep = { seq: 1, name: 'nap', kind: 'sleep' } as const;
    const wait = { seq: 2, name: 'cb', kind: 'promise' } as const;
    const j = new Journal(RUN, [
      waitStartedEntry(RUN, sleep, 111, T.startedAt),
      waitStartedEntry(RUN, wait, 222, T.startedAt),
    ]);
    assert.deepEqual(j.decide(sleep), { type: 'sleep-until', wakeAt: 111 });
    assert.deepEqual(j.decide(wait), { type: 'promise-wait', deadline: 222 });
  });

  const outcomes = [
    { reason: 'resolved with a value', outcome: { resolved: true, value: { a: 1 } } },
    {
      reason: 'resolved with undefined is stored as null',
      outcome: { resolved: true, value: undefined },
      replayed: { resolved: true, value: null },
    },
    { reason: 'timed out', outcome: { resolved: false } },
  ];
  for (const { reason, outcome, replayed } of outcomes) {
    test(`promise outcome round-trips: ${reason}`, () => {
      const call = { seq: 1, name: 'p', kind: 'promise' } as const;
      const stored = stepEntry(RUN, call, { ok: true, value: outcomeValue(outcome) }, T);
      assert.deepEqual(new Journal(RUN, [stored]).decide(call), {
        type: 'promise-settled',
        outcome: replayed ?? outcome,
      });
    });
  }
});

describe('step errors and values', () => {
  class CodedError extends Error {
    constructor(readonly code: string) {
      super('coded');
      this.name = 'CodedError';
    }
  }
  const cases = [
    {
      reason: 'an error with `details` keeps them',
      error: new TerminalWorkflowError('t', { x: 1 }),
      expected: { kind: 'terminal', name: 'TerminalWorkflowError', message: 't', details: { x: 1 } },
    },
    {
      reason: 'own fields become details',
      error: new CodedError('CONFLICT'),
      expected: { kind: 'error', name: 'CodedError', message: 'coded', details: { code: 'CONFLICT' } },
    },
    {
      reason: 'a plain Error has no details',
      error: new Error('plain'),
      expected: { kind: 'error', name: 'Error', message: 'plain', details: null },
    },
    {
      reason: 'a thrown string becomes a message',
      error: 'oops',
      expected: { kind: 'error', name: 'Error', message: 'oops', details: null },
    },
    {
      reason: 'a rethrown StepFailedError keeps the original name',
      error: new StepFailedError('s', 'ComputeError', 'm', { code: 'X' }),
      expected: { kind: 'error', name: 'ComputeError', message: 'm', details: { code: 'X' } },
    },
    {
      reason: 'a cancellation has its kind',
      error: new RunCancelledError('r'),
      expected: {
        kind: 'cancelled',
        name: 'RunCancelledError',
        message: 'run r was cancelled',
        details: null,
      },
    },
    {
      reason: 'non-determinism has its kind',
      error: new NonDeterminismError('r', 1, "step 'a'", "step 'b'"),
      expected: {
        kind: 'non-determinism',
        name: 'NonDeterminismError',
        message: "run r: durable call #1 was 'step 'a'' in the journal but is now 'step 'b''",
        details: null,
      },
    },
    {
      reason: "an error merely named like Lessor's own is an ordinary error",
      error: Object.assign(new Error('mine'), { name: 'TerminalWorkflowError' }),
      expected: { kind: 'error', name: 'TerminalWorkflowError', message: 'mine', details: null },
    },
  ];
  for (const { reason, error, expected } of cases) {
    test(`serializeError: ${reason}`, () => assert.deepEqual(serializeError(error), expected));
  }

  test('toJournalValue is a JSON round trip; undefined becomes null', () => {
    assert.equal(toJournalValue(undefined), null);
    assert.deepEqual(toJournalValue({ a: undefined, d: new Date(0) }), { d: '1970-01-01T00:00:00.000Z' });
    assert.throws(() => toJournalValue(10n));
  });
});
