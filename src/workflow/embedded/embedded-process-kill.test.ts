/**
 * The real thing: an engine in a child process on a SQLite file is killed with SIGKILL mid-run,
 * twice; a third process completes the run. Each step appends a line to a file inside the step, so
 * the file shows how often each step's effect happened: once per journaled step, plus at most one
 * more for the step that was running at each kill (at-least-once, never more).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sqliteBackend } from '../../store/testing/test-databases.js';
import { eventually } from '../testing/run-probes.js';

const here = dirname(fileURLToPath(import.meta.url));
const STEPS = 8;

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

function spawnChild(
  url: string,
  runId: string,
  effectsFile: string,
): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'testing', 'kill-child.ts'), url, runId, effectsFile],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

test('SIGKILL mid-run, twice: a new process completes the run, each step effect happens once per journal entry', async (t) => {
  const db = await sqliteBackend.create();
  try {
    const runId = 'kill-test';
    const effectsFile = join(dirname(db.url.slice('sqlite:'.length)), 'effects.log');
    const runningAtKill: string[] = [];
    for (const killAfterLines of [3, 6]) {
      const { child, exited } = spawnChild(db.url, runId, effectsFile);
      await eventually(
        () => (lines(effectsFile).length >= killAfterLines ? true : undefined),
        30_000,
        `${killAfterLines} effects`,
      );
      child.kill('SIGKILL');
      await exited;
      const completed = (await db.store.steps.list(runId)).filter((s) => s.status === 'completed');
      runningAtKill.push(`s${completed.length + 1}`);
      t.diagnostic(`killed with ${completed.length} steps journaled, s${completed.length + 1} running`);
    }
    const last = spawnChild(db.url, runId, effectsFile);
    assert.equal(await last.exited, 0, last.stderr());
    const run = await db.store.runs.get(runId);
    assert.deepEqual([run?.state, run?.output, run?.attempt], ['succeeded', 'done', 3]);
    const journal = await db.store.steps.list(runId);
    const effects = lines(effectsFile);
    for (let i = 1; i <= STEPS; i++) {
      const name = `s${i}`;
      assert.equal(
        journal.filter((s) => s.name === name && s.status === 'completed').length,
        1,
        `${name} journaled once`,
      );
      const count = effects.filter((line) => line === name).length;
      const allowed = 1 + runningAtKill.filter((n) => n === name).length;
      assert.ok(count >= 1 && count <= allowed, `${name}: ${count} effects, at most ${allowed} allowed`);
    }
  } finally {
    await db.cleanup();
  }
});
