/**
 * The deferred request logger builds its child only for a line the parent's level lets through,
 * and that line carries the request's bindings.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { deferredChildLogger, DeferredChildLogger } from './request-log.js';
import { jsonLineSink } from './testing/json-lines.js';

function collected(level: string) {
  const { sink, lines } = jsonLineSink();
  const parent = pino({ level }, sink);
  let children = 0;
  const child = parent.child.bind(parent);
  parent.child = ((...args: Parameters<typeof child>) => {
    children++;
    return child(...args);
  }) as typeof parent.child;
  return { parent, lines, children: () => children };
}

test('a line below the level builds no child; a line at it is written with the bindings', async () => {
  const { parent, lines, children } = collected('info');
  const log = deferredChildLogger(parent, { requestId: 'r-1' }, {});
  assert.ok(log instanceof DeferredChildLogger);
  log.debug({ detail: 1 }, 'not written');
  log.trace('nor this');
  assert.equal(children(), 0, 'no child for lines the level drops');
  assert.equal(log.level, 'info', 'the level is the parent’s');
  log.info({ code: 'X' }, 'written');
  log.warn('and this');
  assert.equal(children(), 1, 'one child, built on the first written line and kept');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    lines.map((l) => [l.requestId, l.msg]),
    [
      ['r-1', 'written'],
      ['r-1', 'and this'],
    ],
  );
});

test('route log options get an ordinary child at once', () => {
  const { parent, children } = collected('info');
  const log = deferredChildLogger(parent, { requestId: 'r-2' }, { level: 'debug' });
  assert.ok(!(log instanceof DeferredChildLogger));
  assert.equal(children(), 1);
  assert.equal(log.level, 'debug');
});
