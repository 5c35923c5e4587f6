/**
 * The storage incident log: one loud line per incident however many calls fail, a periodic count
 * while it lasts, an end only after a quiet period (no flapping on a nearly full disk), and probing
 * on its own so the end is noticed without callers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreUnavailableError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import { StoreIncidents } from './store-incidents.js';

interface Line {
  readonly level: string;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

function harness(probe: () => Promise<void> = async () => {}) {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (first: object | string, msg?: string): void => {
      if (typeof first === 'string') lines.push({ level, msg: first, fields: {} });
      else lines.push({ level, msg: msg ?? '', fields: first as Record<string, unknown> });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  const clock = { ms: 1_000_000 };
  const incidents = new StoreIncidents(logger, {
    probeEveryMs: 5,
    quietMs: 5_000,
    summaryEveryMs: 30_000,
    now: () => clock.ms,
  });
  incidents.useProbe(probe);
  const fault = () =>
    incidents.failed(new StoreUnavailableError('disk full', { cause: new Error('SQLITE_FULL') }));
  return { lines, clock, incidents, fault };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('many failures make one error line with the cause; the end is one info line with the count', () => {
  const { lines, clock, incidents, fault } = harness();
  for (let i = 0; i < 100; i++) fault();
  assert.deepEqual(
    lines.map((l) => l.level),
    ['error'],
  );
  assert.equal((lines[0]!.fields.err as Error).message, 'SQLITE_FULL');
  clock.ms += 5_000;
  assert.equal(incidents.probeSucceeded(), 0);
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg]),
    [
      ['error', lines[0]!.msg],
      ['info', 'store available again'],
    ],
  );
  assert.equal(lines[1]!.fields.failedCalls, 100);
  incidents.close();
});

test('a probe that succeeds within the quiet period does not end the incident', () => {
  const { lines, clock, incidents, fault } = harness();
  fault();
  clock.ms += 4_000;
  assert.equal(incidents.probeSucceeded(), 1_000);
  fault();
  clock.ms += 4_000;
  assert.equal(incidents.probeSucceeded(), 1_000, 'the last failure restarts the quiet period');
  clock.ms += 1_000;
  assert.equal(incidents.probeSucceeded(), 0);
  assert.deepEqual(
    lines.map((l) => l.level),
    ['error', 'info'],
  );
  assert.equal(incidents.probeSucceeded(), 0, 'no incident: ready');
  incidents.close();
});

test('while open, the store probes on its own and reports a count now and then', async () => {
  let probes = 0;
  const h = harness(async () => {
    probes++;
    if (h.clock.ms - start < 35_000) throw new StoreUnavailableError('still full');
    h.incidents.probeSucceeded();
  });
  const start = h.clock.ms;
  h.fault();
  h.fault();
  h.clock.ms += 31_000;
  await sleep(30);
  assert.ok(probes > 0, 'probed without a caller');
  assert.deepEqual(
    h.lines.map((l) => [l.level, l.fields.sinceLastReport]),
    [
      ['error', undefined],
      ['warn', 1],
    ],
  );
  h.clock.ms += 10_000;
  await sleep(30);
  assert.equal(h.lines.at(-1)?.msg, 'store available again');
  const probesAtEnd = probes;
  await sleep(30);
  assert.equal(probes, probesAtEnd, 'probing stops with the incident');
  h.incidents.close();
});

test('failures while an operation is left to its caller (the migration at start-up) open no incident', async () => {
  const { lines, incidents, fault } = harness();
  await assert.rejects(
    incidents.leftToCaller(async () => {
      fault();
      throw new Error('unreachable');
    }),
    /unreachable/,
  );
  assert.equal(lines.length, 0, 'the caller reports them');
  fault();
  assert.deepEqual(
    lines.map((l) => l.level),
    ['error'],
    'after it, failures are incidents again',
  );
  incidents.close();
});
