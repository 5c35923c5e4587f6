/** The lifecycle: reverse stop order, one deadline shared by every stop, failures and idempotence. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger, type Logger } from '../domain/logger.js';
import { Lifecycle } from './lifecycle.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A logger that keeps warn-level messages. */
function warnings(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const logger: Logger = {
    ...silentLogger,
    warn: (obj: object | string, msg?: string) =>
      void messages.push(typeof obj === 'string' ? obj : (msg ?? '')),
    child: () => logger,
  };
  return { logger, messages };
}

describe('Lifecycle', () => {
  test('stops in reverse start order, each stop once, also when stop is called twice', async () => {
    const lifecycle = new Lifecycle({ logger: silentLogger });
    const events: string[] = [];
    for (const name of ['database', 'engine', 'api']) {
      await lifecycle.start(
        name,
        () => void events.push(`start ${name}`),
        () => void events.push(`stop ${name}`),
      );
    }
    await Promise.all([lifecycle.stop(1000), lifecycle.stop(1000)]);
    await lifecycle.stop(1000);
    assert.deepEqual(events, [
      'start database',
      'start engine',
      'start api',
      'stop api',
      'stop engine',
      'stop database',
    ]);
  });

  test('a second stop waits for the first one to finish', async () => {
    const lifecycle = new Lifecycle({ logger: silentLogger });
    let stopped = false;
    lifecycle.onStop('slow', async () => {
      await sleep(50);
      stopped = true;
    });
    void lifecycle.stop(1000);
    await lifecycle.stop(1000);
    assert.equal(stopped, true);
  });

  test('one deadline: each stop gets the time left, and later stops still run with 0', async () => {
    // A clock each stop moves on by the time it takes, so the figures do not depend on the machine's
    // load (the real deadline is the hanging-stop test's below).
    let clock = 1_000_000;
    const lifecycle = new Lifecycle({ logger: silentLogger, now: () => clock });
    const graces: [string, number][] = [];
    lifecycle.onStop('database', (grace) => void graces.push(['database', grace]));
    lifecycle.onStop('engine', (grace) => {
      graces.push(['engine', grace]);
      clock += grace + 30; // it used its grace, and overran it
    });
    lifecycle.onStop('controller', (grace) => {
      graces.push(['controller', grace]);
      clock += 120;
    });
    await lifecycle.stop(200);
    assert.deepEqual(graces, [
      ['controller', 200],
      ['engine', 80],
      ['database', 0],
    ]);
  });

  test('a failing stop is logged and the others still run', async () => {
    const { logger, messages } = warnings();
    const lifecycle = new Lifecycle({ logger });
    const stopped: string[] = [];
    lifecycle.onStop('database', () => void stopped.push('database'));
    lifecycle.onStop('engine', () => Promise.reject(new Error('engine exploded')));
    lifecycle.onStop('api', () => {
      throw new Error('api exploded synchronously');
    });
    await lifecycle.stop(100);
    assert.deepEqual(stopped, ['database']);
    assert.deepEqual(messages, ['stopping a service failed', 'stopping a service failed']);
  });

  test('a stop that hangs is left behind after its grace plus the overrun allowance', async () => {
    const { logger, messages } = warnings();
    const lifecycle = new Lifecycle({ logger, overrunMs: 50 });
    let databaseStopped = false;
    lifecycle.onStop('database', () => void (databaseStopped = true));
    lifecycle.onStop('stuck', () => new Promise<void>(() => {}));
    const started = Date.now();
    await lifecycle.stop(100);
    const took = Date.now() - started;
    assert.ok(took >= 140 && took < 400, `took ${took} ms`);
    assert.equal(databaseStopped, true);
    assert.deepEqual(messages, ['a service did not stop within its grace; moving on']);
  });

  test('a start that throws registers nothing; registering while stopping is refused', async () => {
    const lifecycle = new Lifecycle({ logger: silentLogger });
    const stopped: string[] = [];
    await assert.rejects(
      lifecycle.start(
        'broken',
        () => Promise.reject(new Error('port in use')),
        () => void stopped.push('broken'),
      ),
      /port in use/,
    );
    await lifecycle.stop(0);
    assert.deepEqual(stopped, []);
    assert.throws(() => lifecycle.onStop('late', () => undefined), /stopping/);
  });
});
