import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ComputeError } from '../domain/compute-error.js';
import { callWithTimeout, CallAbandonedError } from './call-with-timeout.js';
import { normaliseError } from './error-normaliser.js';
import type { ComputeProvider } from './provider.js';
import { FakeEngine, FakeProvider } from './providers/fake/index.js';
import { sanitizeRawError } from './secrets.js';

const provider = new FakeProvider({ engine: new FakeEngine() });

describe('normaliseError', () => {
  test('a ComputeError passes through with its code, classification and partial', () => {
    const original = new ComputeError('PARTIAL_FAILURE', 'half', {
      partial: { succeeded: ['a'], failed: ['b'] },
    });
    const normalised = normaliseError(original, provider, []);
    assert.equal(normalised.code, 'PARTIAL_FAILURE');
    assert.equal(normalised.classification, 'retriable');
    assert.deepEqual(normalised.partial, { succeeded: ['a'], failed: ['b'] });
  });

  test('a native error goes through mapError and keeps a sanitised providerError', () => {
    const raw = Object.assign(new Error('connect failed with password=hunter2'), {
      code: 'ECONNREFUSED',
      headers: { Authorization: 'Bearer abc', accept: 'json' },
      config: { secretEnv: { TOKEN: 'hunter2' } },
    });
    const normalised = normaliseError(raw, provider, ['hunter2']);
    assert.equal(normalised.code, 'INTERNAL');
    assert.ok(!normalised.message.includes('hunter2'));
    const text = JSON.stringify(normalised.toJSON());
    assert.ok(!text.includes('hunter2'), text);
    assert.ok(!text.includes('Bearer abc'), text);
    assert.ok(text.includes('ECONNREFUSED'), text);
  });

  test('a provider whose mapError throws still yields INTERNAL', () => {
    const broken = {
      type: 'broken',
      mapError: () => {
        throw new Error('oops');
      },
    } as unknown as ComputeProvider;
    const normalised = normaliseError(new Error('x'), broken, []);
    assert.equal(normalised.code, 'INTERNAL');
    assert.equal(normalised.classification, 'manual_intervention');
  });

  test('sanitizeRawError cuts cycles, stacks and depth', () => {
    const a: Record<string, unknown> = { name: 'a', apiKey: 'k' };
    a.self = a;
    const error = Object.assign(new Error('boom', { cause: a }), { statusCode: 503 });
    const clean = sanitizeRawError(error, []) as Record<string, unknown>;
    assert.equal(clean.message, 'boom');
    assert.equal(clean.statusCode, 503);
    assert.equal(clean.stack, undefined);
    assert.deepEqual(clean.cause, { name: 'a', apiKey: '***', self: '[…]' });
  });
});

describe('callWithTimeout', () => {
  test('resolves with the call', async () => {
    assert.equal(await callWithTimeout(async () => 42, { timeoutMs: 100, what: 'x' }), 42);
  });

  test('times out with PROVIDER_TIMEOUT even when the call ignores its signal, and aborts the signal', async () => {
    let seen: AbortSignal | undefined;
    const started = Date.now();
    await assert.rejects(
      callWithTimeout((signal) => ((seen = signal), new Promise(() => undefined)), {
        timeoutMs: 50,
        what: 'fake provision',
      }),
      (e: unknown) =>
        e instanceof ComputeError && e.code === 'PROVIDER_TIMEOUT' && /fake provision/.test(e.message),
    );
    assert.ok(Date.now() - started < 1_000);
    assert.equal(seen?.aborted, true);
  });

  test('a stop signal abandons the call', async () => {
    const stop = new AbortController();
    const call = callWithTimeout(() => new Promise(() => undefined), {
      timeoutMs: 10_000,
      what: 'x',
      stop: stop.signal,
    });
    stop.abort(new Error('shutting down'));
    await assert.rejects(
      call,
      (e: unknown) => e instanceof CallAbandonedError && e.reason === 'shutting down',
    );
  });

  test('a call that throws synchronously rejects normally', async () => {
    await assert.rejects(
      callWithTimeout(
        () => {
          throw new Error('sync');
        },
        { timeoutMs: 100, what: 'x' },
      ),
      /sync/,
    );
  });
});
