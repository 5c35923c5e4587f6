import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatLabelSelector, parseLabelSelector } from './label-selector.js';

test('label selectors: valid requirements parse; anything else is a readable error', () => {
  const valid: [string, string, string][] = [
    ['equality', 'plan=pro', 'plan=pro'],
    ['double equals', 'plan==pro', 'plan=pro'],
    ['inequality and several', 'plan=pro,tier!=free', 'plan=pro,tier!=free'],
    ['spaces around parts', ' plan=pro , tier!=free', 'plan=pro,tier!=free'],
    ['empty value', 'env=', 'env='],
    ['prefixed key', 'lessor.dev/team=a_b', 'lessor.dev/team=a_b'],
  ];
  for (const [reason, input, expected] of valid) {
    const parsed = parseLabelSelector(input);
    assert.ok(parsed.ok, reason);
    assert.equal(formatLabelSelector(parsed.requirements), expected, reason);
  }
  const invalid: [string, string][] = [
    ['no operator', 'plan'],
    ['empty key', '=pro'],
    ['trailing comma', 'plan=pro,'],
    ['bad key characters', 'pl an=pro'],
    ['bad value characters', 'plan=p ro'],
    ['injection', "plan=';DROP TABLE tenants;--"],
    ['too many requirements', Array.from({ length: 21 }, (_, i) => `k${i}=v`).join(',')],
    ['NUL', 'plan=\u0000'],
  ];
  for (const [reason, input] of invalid) {
    const parsed = parseLabelSelector(input);
    assert.ok(!parsed.ok, reason);
    // eslint-disable-next-line no-control-regex -- echoed input must be free of control characters
    assert.doesNotMatch(parsed.message, /[\u0000-\u001f]/, reason);
  }
});
