import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { LogLine } from '../../provider.js';
import { readProcessLogs, rotateIfNeeded, streamFile } from './process-logs.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tenantDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lessor-plogs-'));
  dirs.push(dir);
  return dir;
}

const tenant = { id: randomUUID(), name: 'logs' };

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(condition(), 'the followed line never arrived');
}

async function read(dir: string, extra: { tail?: number; sinceMs?: number } = {}): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  const request = { tenant, config: {}, follow: false, ...extra };
  for await (const line of readProcessLogs(
    dir,
    request,
    { maxBytes: 1024, files: 2 },
    AbortSignal.timeout(5000),
  ))
    lines.push(line);
  return lines;
}

test('a file past the cap is rotated: copies shift, the oldest is dropped, the file is emptied', async () => {
  const dir = await tenantDir();
  const path = streamFile(dir, 'stdout');
  const rotation = { maxBytes: 10, files: 2 };
  for (const round of ['one', 'two', 'three']) {
    await writeFile(path, `${round}-line-longer-than-ten\n`);
    assert.equal(await rotateIfNeeded(path, rotation), true, round);
  }
  assert.equal((await stat(path)).size, 0);
  assert.equal(await readFile(`${path}.1`, 'utf8'), 'three-line-longer-than-ten\n');
  assert.equal(await readFile(`${path}.2`, 'utf8'), 'two-line-longer-than-ten\n');
  await assert.rejects(stat(`${path}.3`), 'only `files` copies are kept');
  await writeFile(path, 'short\n');
  assert.equal(await rotateIfNeeded(path, rotation), false, 'under the cap: left alone');
  assert.equal(await rotateIfNeeded(join(dir, 'missing.log'), rotation), false);
});

test('reads rotated copies then the live file, both streams, with tail; a writer appending after a rotation keeps going', async () => {
  const dir = await tenantDir();
  const out = streamFile(dir, 'stdout');
  await writeFile(`${out}.1`, 'old 1\nold 2\n');
  await new Promise((resolve) => setTimeout(resolve, 20));
  await writeFile(streamFile(dir, 'stderr'), 'warn\n');
  await new Promise((resolve) => setTimeout(resolve, 20));
  await writeFile(out, 'new 1\n');
  const all = await read(dir);
  assert.deepEqual(
    all.map((l) => `${l.stream}:${l.line}`),
    ['stdout:old 1', 'stdout:old 2', 'stderr:warn', 'stdout:new 1'],
  );
  assert.deepEqual(
    (await read(dir, { tail: 2 })).map((l) => l.line),
    ['warn', 'new 1'],
  );
  assert.deepEqual(await read(dir, { tail: 0 }), []);
  assert.deepEqual(await read(dir, { sinceMs: Date.now() + 60_000 }), []);
  await appendFile(out, 'new 2\n');
  assert.equal((await read(dir)).at(-1)?.line, 'new 2');
});

test('follow yields appended lines across a rotation and ends when the dir is removed', async () => {
  const dir = await tenantDir();
  const out = streamFile(dir, 'stdout');
  await writeFile(out, 'first\n');
  const seen: string[] = [];
  const request = { tenant, config: {}, follow: true, tail: 0 };
  const reading = (async () => {
    for await (const line of readProcessLogs(
      dir,
      request,
      { maxBytes: 8, files: 1 },
      AbortSignal.timeout(20_000),
    ))
      seen.push(line.line);
  })();
  await new Promise((resolve) => setTimeout(resolve, 400));
  await appendFile(out, 'second\n');
  await until(() => seen.includes('second'));
  await rotateIfNeeded(out, { maxBytes: 8, files: 1 });
  await appendFile(out, 'third\n');
  await until(() => seen.includes('third'));
  await rm(dir, { recursive: true, force: true });
  await reading;
  assert.deepEqual(seen, ['second', 'third']);
});
