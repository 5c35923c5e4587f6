/**
 * The background submission of runs to Restate, against a scripted `send` and run row: retried
 * while the row is `pending`, one submission per run at a time, nothing after `close`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../../domain/logger.js';
import type { RunState } from '../../domain/operations.js';
import type { WorkflowRun } from '../../domain/workflow-run.js';
import { RestateCallError, type SubmitResult } from './restate-http.js';
import { RunSubmitter } from './run-submitter.js';

const PAYLOAD = { workflow: 'flow', input: null };
const ACCEPTED: SubmitResult = { invocationId: 'inv_1', status: 'Accepted' };

/** A `send` that fails `failures` times, then accepts; and a run row whose state the test sets. */
class Script {
  sends = 0;
  state: RunState = 'pending';
  private release: (() => void) | null = null;

  constructor(
    private failures: number,
    private readonly hold = false,
  ) {}

  readonly send = async (): Promise<SubmitResult> => {
    this.sends += 1;
    if (this.hold) await new Promise<void>((resolve) => (this.release = resolve));
    if (this.failures > 0) {
      this.failures -= 1;
      throw new RestateCallError('restate ingress unreachable', null, null);
    }
    return ACCEPTED;
  };

  readonly getRun = (): Promise<WorkflowRun | undefined> =>
    Promise.resolve({ state: this.state } as WorkflowRun);

  answer(): void {
    this.release?.();
  }

  submitter(): RunSubmitter {
    return new RunSubmitter({
      send: this.send,
      getRun: this.getRun,
      log: silentLogger,
      initialRetryMs: 1,
      maxRetryMs: 4,
    });
  }
}

describe('run submitter', () => {
  test('a failed submission is tried again until Restate accepts it', async () => {
    const script = new Script(3);
    const submitter = script.submitter();
    submitter.submit('run-1', PAYLOAD);
    await submitter.settled('run-1');
    assert.equal(script.sends, 4);
  });

  test('no new try once the row is no longer pending (cancelled meanwhile)', async () => {
    const script = new Script(Number.MAX_SAFE_INTEGER);
    const submitter = script.submitter();
    script.state = 'cancelled';
    submitter.submit('run-1', PAYLOAD);
    await submitter.settled('run-1');
    assert.equal(script.sends, 1);
  });

  test('a second submit of a run in flight joins the first', async () => {
    const script = new Script(0, true);
    const submitter = script.submitter();
    submitter.submit('run-1', PAYLOAD);
    submitter.submit('run-1', PAYLOAD);
    script.answer();
    await submitter.settled('run-1');
    assert.equal(script.sends, 1);
    submitter.submit('run-1', PAYLOAD);
    script.answer();
    await submitter.settled('run-1');
    assert.equal(script.sends, 2, 'once settled, a new submit sends again');
  });

  test('close ends the retries and takes no new submission', async () => {
    const script = new Script(Number.MAX_SAFE_INTEGER);
    const submitter = script.submitter();
    submitter.submit('run-1', PAYLOAD);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await submitter.close(1_000);
    await submitter.settled('run-1');
    const sent = script.sends;
    submitter.submit('run-2', PAYLOAD);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(script.sends, sent);
  });
});
