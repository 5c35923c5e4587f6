/**
 * The tenant state machine against the phase table of docs/api.md, written out independently of
 * ALLOWED_TRANSITIONS: every (from, to) pair of the seven phases, with why it is allowed or refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidTransitionError } from './errors.js';
import { ALLOWED_TRANSITIONS, assertTransition, canTransition } from './phase-machine.js';
import { PHASES, type Phase } from './tenant.js';

type Row = readonly [from: Phase, to: Phase, allowed: boolean, reason: string];

const TABLE: readonly Row[] = [
  ['requested', 'requested', false, 'no self-transition: staying put is not a change'],
  ['requested', 'provisioning', true, 'the controller starts the provision run'],
  ['requested', 'ready', false, 'nothing runs before a provision'],
  ['requested', 'updating', false, 'nothing to update before a provision'],
  ['requested', 'deleting', true, 'deleted before any run started'],
  ['requested', 'archived', false, 'archiving needs a delete run first'],
  ['requested', 'failed', true, 'rejected before provisioning (e.g. invalid config)'],

  ['provisioning', 'requested', false, 'no way back to requested'],
  ['provisioning', 'provisioning', false, 'no self-transition'],
  ['provisioning', 'ready', true, 'provision succeeded and passed its health check'],
  ['provisioning', 'updating', false, 'an update waits until provisioning settles'],
  ['provisioning', 'deleting', true, 'delete requested mid-provision'],
  ['provisioning', 'archived', false, 'archiving needs a delete run'],
  ['provisioning', 'failed', true, 'non-retriable error or retries exhausted'],

  ['ready', 'requested', false, 'no way back to requested'],
  ['ready', 'provisioning', false, 'a ready tenant is updated, not provisioned again'],
  ['ready', 'ready', false, 'no self-transition'],
  ['ready', 'updating', true, 'a new generation (or drift repair) starts an update'],
  ['ready', 'deleting', true, 'delete requested'],
  ['ready', 'archived', false, 'archiving needs a delete run'],
  ['ready', 'failed', false, 'a ready tenant fails only through an update'],

  ['updating', 'requested', false, 'no way back to requested'],
  ['updating', 'provisioning', false, 'an update does not turn into a provision'],
  ['updating', 'ready', true, 'update succeeded'],
  ['updating', 'updating', false, 'no self-transition'],
  ['updating', 'deleting', true, 'delete requested mid-update'],
  ['updating', 'archived', false, 'archiving needs a delete run'],
  ['updating', 'failed', true, 'update failed for good'],

  ['deleting', 'requested', false, 'no way back to requested'],
  ['deleting', 'provisioning', false, 'a delete cannot be undone into a provision'],
  ['deleting', 'ready', false, 'a delete cannot be undone'],
  ['deleting', 'updating', false, 'a delete cannot be undone into an update'],
  ['deleting', 'deleting', false, 'no self-transition'],
  ['deleting', 'archived', true, 'runtime removed; record kept for audit'],
  ['deleting', 'failed', true, 'delete failed for good'],

  ['archived', 'requested', false, 'archived is final'],
  ['archived', 'provisioning', false, 'archived is final'],
  ['archived', 'ready', false, 'archived is final'],
  ['archived', 'updating', false, 'archived is final'],
  ['archived', 'deleting', false, 'archived is final'],
  ['archived', 'archived', false, 'archived is final (no self-transition)'],
  ['archived', 'failed', false, 'archived is final'],

  ['failed', 'requested', false, 'no way back to requested'],
  ['failed', 'provisioning', true, 'retry of a failed provision'],
  ['failed', 'ready', false, 'ready only through a successful run'],
  ['failed', 'updating', true, 'retry, or a new spec fixing the failure'],
  ['failed', 'deleting', true, 'a failed tenant can always be deleted'],
  ['failed', 'archived', false, 'archiving needs a delete run'],
  ['failed', 'failed', false, 'no self-transition'],
];

test('the table covers every (from, to) pair exactly once', () => {
  const pairs = new Set(TABLE.map(([from, to]) => `${from}->${to}`));
  assert.equal(TABLE.length, PHASES.length ** 2);
  assert.equal(pairs.size, PHASES.length ** 2);
});

for (const [from, to, allowed, reason] of TABLE) {
  test(`${from} -> ${to}: ${allowed ? 'allowed' : 'refused'} (${reason})`, () => {
    assert.equal(canTransition(from, to), allowed);
    if (allowed) {
      assert.doesNotThrow(() => assertTransition(from, to));
    } else {
      assert.throws(
        () => assertTransition(from, to),
        (error: unknown) =>
          error instanceof InvalidTransitionError &&
          error.code === 'INVALID_TRANSITION' &&
          error.details.from === from &&
          error.details.to === to,
      );
    }
  });
}

test('ALLOWED_TRANSITIONS lists exactly the allowed rows', () => {
  const allowed = TABLE.filter(([, , ok]) => ok)
    .map(([from, to]) => `${from}->${to}`)
    .sort();
  const declared = PHASES.flatMap((from) => ALLOWED_TRANSITIONS[from].map((to) => `${from}->${to}`)).sort();
  assert.deepEqual(declared, allowed);
});

test('every phase but archived can reach archived, and only through deleting', () => {
  const reachable = (start: Phase): Set<Phase> => {
    const seen = new Set<Phase>([start]);
    const queue = [start];
    while (queue.length > 0) {
      for (const next of ALLOWED_TRANSITIONS[queue.shift()!]) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    return seen;
  };
  for (const phase of PHASES) assert.ok(reachable(phase).has('archived'), phase);
  const intoArchived = PHASES.filter((p) => canTransition(p, 'archived'));
  assert.deepEqual(intoArchived, ['deleting']);
});
