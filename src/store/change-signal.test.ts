import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeSignal } from './change-signal.js';
import type { CallbackRecord } from '../domain/compute-callback.js';

test('ChangeSignal: each change once per notify, per subscription; unsubscribe is per subscription', () => {
  const signal = new ChangeSignal();
  const told: string[] = [];
  const listener = () => told.push('a');
  const first = signal.subscribe('events', listener);
  signal.subscribe('events', listener);
  signal.subscribe('callbacks', () => told.push('cb'));
  signal.notify(['events', 'events']);
  assert.deepEqual(told.splice(0), ['a', 'a'], 'a repeated change is told once; each subscription hears it');
  first();
  first();
  signal.notify(['callbacks', 'events']);
  assert.deepEqual(told.splice(0), ['cb', 'a']);
});

test('ChangeSignal: a throwing listener is reported as a warning and the others are still told', async () => {
  const signal = new ChangeSignal();
  const told: string[] = [];
  signal.subscribe('events', () => {
    throw new Error('boom');
  });
  signal.subscribe('events', () => told.push('second'));
  const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
  signal.notify(['events']);
  assert.deepEqual(told, ['second']);
  assert.match((await warned).message, /listener \(events\) threw: Error: boom/);
});

test('ChangeSignal: handed-over callbacks reach each callback subscription until it unsubscribes', () => {
  const signal = new ChangeSignal();
  const told: string[][] = [];
  const stop = signal.subscribeCallbacks((callbacks) => told.push(callbacks.map((c) => c.id)));
  signal.subscribe('callbacks', () => told.push(['signal']));
  const callback = { id: 'cb-1' } as CallbackRecord;
  signal.handOff([callback]);
  assert.deepEqual(told.splice(0), [['cb-1']], 'a hand-over tells only the callback subscriptions');
  stop();
  signal.handOff([callback]);
  assert.deepEqual(told, []);
});
