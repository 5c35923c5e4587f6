/**
 * A real disk filling up under a real Lessor (`lessor serve`, SQLite on a small tmpfs of
 * its own). While the disk is full the API answers 503 STORE_UNAVAILABLE with Retry-After — never
 * a 500 — `/readyz` answers 503, the server stays up, and its log holds one account of the incident
 * rather than a stack trace per refused request. Once space is freed `/readyz` is 200 again within
 * seconds, every tenant acknowledged (201) is still there and reaches ready, and new writes work.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { engines } from '../support/engines.js';
import { startLessorProcess, tail, type LessorProcess } from '../support/lessor-process.js';
import { mountTmpfs, type Tmpfs } from '../support/tmpfs.js';
import { sleep, waitFor, waitForPhase } from '../support/wait.js';

const DISK_BYTES = 16 * 1024 * 1024;
/** Room left for the database once the filler is written: a few hundred tenants. */
const HEADROOM_BYTES = 4 * 1024 * 1024;
/** Requests sent while the disk is full, after the first refusal. */
const REFUSED_ROUNDS = 60;

interface Answer {
  readonly status: number;
  readonly code: string | undefined;
  readonly retryAfter: string | null;
  readonly id: string | undefined;
}

async function createTenant(url: string, name: string): Promise<Answer> {
  const response = await fetch(`${url}/v1/tenants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // A little padding, so the disk fills in a few hundred requests.
    body: JSON.stringify({ name, spec: { config: { env: { PAD: 'x'.repeat(3000) } } } }),
  });
  const body = (await response.json()) as { id?: string; code?: string };
  return {
    status: response.status,
    code: body.code,
    retryAfter: response.headers.get('retry-after'),
    id: body.id,
  };
}

async function readyz(url: string): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(`${url}/readyz`);
  const body = (await response.json()) as { code?: string };
  return { status: response.status, code: body.code };
}

/** Log lines (JSON) from the one holding `marker` on, parsed; unparsable ones are kept as `{ raw }`. */
function linesAfter(logs: string, marker: string): Record<string, unknown>[] {
  const found = logs.indexOf(marker);
  return logs
    .slice(found < 0 ? 0 : logs.lastIndexOf('\n', found) + 1)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return { raw: line };
      }
    });
}

describe('SQLite on a disk that fills up', () => {
  const prefix = `rel-disk${randomBytes(3).toString('hex')}`;
  let disk: Tmpfs | undefined;
  let lessor: LessorProcess | undefined;
  let engineCleanup: (() => Promise<void>) | undefined;

  before(async () => {
    disk = mountTmpfs(DISK_BYTES);
    const engine = await engines()[0]!.setup();
    engineCleanup = () => engine.cleanup();
    lessor = await startLessorProcess({
      databaseUrl: `sqlite:${join(disk.dir, 'lessor.db')}`,
      providers: { fake: { latencyMs: 20 } },
      env: { ...engine.env, LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake' },
    });
  });
  after(async () => {
    await lessor?.kill('SIGKILL');
    await engineCleanup?.();
    disk?.unmount();
  });

  test('503 STORE_UNAVAILABLE while full, no stack-trace flood, recovery with nothing acknowledged lost', async () => {
    const url = lessor!.url;
    const acknowledged: string[] = [];
    const statuses = new Map<number, number>();
    let seq = 0;
    const createOne = async (): Promise<Answer> => {
      const answer = await createTenant(url, `${prefix}-t${seq++}`);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status === 201 && answer.id) acknowledged.push(answer.id);
      if (answer.status === 503) {
        assert.equal(answer.code, 'STORE_UNAVAILABLE');
        assert.equal(answer.retryAfter, '5');
      }
      return answer;
    };
    const assertOnly201And503 = (): void => {
      const unexpected = [...statuses.keys()].filter((s) => s !== 201 && s !== 503);
      assert.deepEqual(unexpected, [], `only 201 or 503 answers: ${JSON.stringify([...statuses])}`);
    };
    try {
      const filler = join(disk!.dir, 'filler');
      writeFileSync(filler, Buffer.alloc(Math.max(0, disk!.freeBytes() - HEADROOM_BYTES)));

      let refused = false;
      for (let round = 0; round < 2_000 && !refused; round++) {
        const answers = await Promise.all(Array.from({ length: 4 }, () => createOne()));
        refused = answers.some((a) => a.status >= 500);
      }
      assert.ok(refused, `the disk never filled: ${JSON.stringify([...statuses])}`);
      const before503 = statuses.get(503) ?? 0;
      for (let i = 0; i < REFUSED_ROUNDS; i++) await createOne();
      assertOnly201And503();
      const refusedWhileFull = (statuses.get(503) ?? 0) - before503;
      assert.ok(refusedWhileFull > REFUSED_ROUNDS / 2, 'writes keep being refused while full');
      assert.deepEqual(await readyz(url), { status: 503, code: 'STORE_UNAVAILABLE' });
      assert.ok(lessor!.running(), 'the server survives a full disk');

      const incident = linesAfter(lessor!.logs(), '"store unavailable: ');
      const stacks = incident.filter((line) => JSON.stringify(line).includes('"stack"'));
      const loud = incident.filter((line) => typeof line.level === 'number' && line.level >= 40);
      const show = (lines: Record<string, unknown>[]) => lines.map((l) => JSON.stringify(l)).join('\n');
      assert.equal(stacks.length, 1, `one stack trace (the incident's cause):\n${show(stacks)}`);
      assert.ok(
        loud.length <= 3,
        `${loud.length} warn/error lines for ${refusedWhileFull} refusals:\n${show(loud)}`,
      );

      rmSync(filler);
      const freedAt = Date.now();
      await waitFor('/readyz to answer 200 again', async () => (await readyz(url)).status === 200, {
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      const recoveryMs = Date.now() - freedAt;
      assert.equal((await createOne()).status, 201, 'a write after recovery');
      await sleep(100);

      assertOnly201And503();
      const readyFrom = Date.now();
      for (const id of acknowledged)
        await waitForPhase(lessor!.client, id, 'ready', { timeoutMs: 90_000, failOn: ['failed'] });
      assert.ok(
        tail(lessor!.logs(), 100_000).includes('store available again'),
        'the end of the incident is logged',
      );
      console.log(
        `reliability: storage-faults requests=${seq} acknowledged=${acknowledged.length} ` +
          `refused503=${statuses.get(503) ?? 0} recoveryMs=${recoveryMs} allReadyMs=${Date.now() - readyFrom} ` +
          `incidentStacks=${stacks.length} incidentWarnOrError=${loud.length}`,
      );
    } catch (error) {
      if (error instanceof Error) error.message += `\n${tail(lessor!.logs(), 6_000)}`;
      throw error;
    }
  });
});
