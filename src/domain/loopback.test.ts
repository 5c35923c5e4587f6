import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopback } from './loopback.js';

test('isLoopback accepts only loopback addresses and localhost', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
    assert.equal(isLoopback(host), true, host);
  for (const host of ['0.0.0.0', '::', '[::]', '10.0.0.1', 'example.com', 'localhost.example.com', ''])
    assert.equal(isLoopback(host), false, host);
});
