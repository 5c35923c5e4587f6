/**
 * The claim loop's looks at the database: a `claimDue` every pass (the poll takes runs left by a
 * crash or by another process), the look for the next wake-up only while a released run may be
 * waiting there.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../domain/logger.js';
import { ClaimLoop } from './claim-loop.js';
import { resolveOptions } from './options.js';

const LATER = 600_000;

/** `answers`: what each look finds, in order: a delay from now, none (null), or a failure. */
function harness(answers: (number | null | Error)[]) {
  const seen = { claims: 0, looks: 0 };
  const options = resolveOptions({
    store: undefined as never,
    definitions: [],
    ownerId: 'p1',
    logger: silentLogger,
    leaseMs: 1_000,
    pollIntervalMs: 2,
  });
  const loop = new ClaimLoop({
    writer: {
      claim: () => {
        seen.claims++;
        return Promise.resolve([]);
      },
    },
    runs: {
      nextWakeAt: () => {
        seen.looks++;
        const answer = answers.shift() ?? null;
        if (answer instanceof Error) return Promise.reject(answer);
        return Promise.resolve(answer === null ? null : Date.now() + answer);
      },
    },
    options,
    log: silentLogger,
    capacity: () => 8,
    launch: () => {},
  });
  return { loop, seen };
}

async function untilClaims(seen: { claims: number }, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (seen.claims < count) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${count} claims (${seen.claims})`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

test('an idle loop polls with claimDue alone once the database holds no released wake-up', async () => {
  const { loop, seen } = harness([null]);
  loop.start();
  try {
    await untilClaims(seen, 10);
    assert.equal(seen.looks, 1, 'only the first pass looked for the next wake-up');
  } finally {
    loop.stop();
  }
});

test('after this process released a run, the loop looks again until none is left', async () => {
  // The start finds none; after the release, two looks find one, the third finds none.
  const { loop, seen } = harness([null, LATER, LATER, null]);
  loop.start();
  try {
    await untilClaims(seen, 5);
    assert.equal(seen.looks, 1);
    loop.noteReleasedWake();
    loop.kick();
    const claims = seen.claims;
    await untilClaims(seen, claims + 10);
    assert.equal(seen.looks, 4, 'looked while one was found, and once more to find none');
  } finally {
    loop.stop();
  }
});

test('a failed look is asked again at the next pass', async () => {
  const { loop, seen } = harness([new Error('database unavailable'), null]);
  loop.start();
  try {
    await untilClaims(seen, 10);
    assert.equal(seen.looks, 2, 'the failed look, then one that found none');
  } finally {
    loop.stop();
  }
});
