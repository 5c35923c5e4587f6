/** Command-line values: K=V pairs, ports, selectors, shell-like splitting, durations. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  collectKeyValue,
  collectLabel,
  parseChoice,
  parseDuration,
  parseKeyValue,
  parsePort,
  parsePositiveInt,
  parseSelector,
  splitCommand,
  UsageError,
  type PortMapping,
} from './args.js';

test('K=V: the first = splits; values may contain = and be empty', () => {
  const cases: readonly { reason: string; input: string; expected: [string, string] }[] = [
    { reason: 'plain', input: 'MODE=prod', expected: ['MODE', 'prod'] },
    { reason: 'value with =', input: 'DSN=a=b;c=d', expected: ['DSN', 'a=b;c=d'] },
    { reason: 'empty value', input: 'EMPTY=', expected: ['EMPTY', ''] },
    { reason: 'spaces kept', input: 'MSG=hello world', expected: ['MSG', 'hello world'] },
  ];
  for (const { reason, input, expected } of cases) assert.deepEqual(parseKeyValue(input), expected, reason);
});

test('K=V: a missing key or = is a usage error', () => {
  for (const [reason, input] of [
    ['no =', 'MODE'],
    ['empty key', '=x'],
    ['empty', ''],
  ] as const) {
    assert.throws(() => parseKeyValue(input), UsageError, reason);
  }
});

test('repeatable K=V flags accumulate and a later key wins', () => {
  const env = ['A=1', 'B=2', 'A=3'].reduce<Record<string, string> | undefined>(
    (acc, kv) => collectKeyValue(kv, acc),
    undefined,
  );
  assert.deepEqual(env, { A: '3', B: '2' });
});

test('labels must be valid label keys and values', () => {
  assert.deepEqual(collectLabel('plan=pro', { tier: 'free' }), { tier: 'free', plan: 'pro' });
  assert.throws(() => collectLabel('-bad=x', undefined), /not a valid label key/);
  assert.throws(() => collectLabel('plan=has space', undefined), /not a valid label value/);
});

test('ports: containerPort[:hostPort][/protocol]', () => {
  const cases: readonly { reason: string; input: string; expected: PortMapping }[] = [
    { reason: 'container port only', input: '80', expected: { containerPort: 80 } },
    { reason: 'with host port', input: '80:8080', expected: { containerPort: 80, hostPort: 8080 } },
    { reason: 'host port 0 = auto', input: '80:0', expected: { containerPort: 80, hostPort: 0 } },
    { reason: 'udp', input: '53/udp', expected: { containerPort: 53, protocol: 'udp' } },
    {
      reason: 'all parts',
      input: '53:5353/tcp',
      expected: { containerPort: 53, hostPort: 5353, protocol: 'tcp' },
    },
  ];
  for (const { reason, input, expected } of cases) assert.deepEqual(parsePort(input), expected, reason);
});

test('ports: out of range, non-numeric and malformed values are usage errors', () => {
  for (const [reason, input] of [
    ['zero container port', '0'],
    ['too large', '65536'],
    ['host port too large', '80:70000'],
    ['letters', 'http'],
    ['negative', '-1'],
    ['bad protocol', '80/sctp'],
    ['empty', ''],
    ['two colons', '1:2:3'],
  ] as const) {
    assert.throws(() => parsePort(input), UsageError, reason);
  }
});

test('selectors: =, == and != requirements, comma separated; bad ones are usage errors', () => {
  assert.equal(parseSelector('plan=pro'), 'plan=pro');
  assert.equal(parseSelector('plan=pro, tier!=free'), 'plan=pro,tier!=free');
  assert.equal(parseSelector('app.kubernetes.io/name==web'), 'app.kubernetes.io/name==web');
  assert.equal(parseSelector('empty='), 'empty=', 'an empty value selects the empty label');
  for (const [reason, input] of [
    ['no operator', 'plan'],
    ['bad key', '-plan=pro'],
    ['bad value', 'plan=p r o'],
    ['empty requirement', 'plan=pro,'],
  ] as const) {
    assert.throws(() => parseSelector(input), UsageError, reason);
  }
});

test('command lines split like a shell: quotes, escapes, no expansion', () => {
  const cases: readonly { reason: string; input: string; expected: string[] }[] = [
    {
      reason: 'plain words',
      input: 'node server.js --port 8080',
      expected: ['node', 'server.js', '--port', '8080'],
    },
    { reason: 'extra whitespace', input: '  a \t b  ', expected: ['a', 'b'] },
    {
      reason: 'single quotes keep all',
      input: `sh -c 'echo "$HOME" \\n'`,
      expected: ['sh', '-c', 'echo "$HOME" \\n'],
    },
    {
      reason: 'double quotes with escapes',
      input: 'echo "say \\"hi\\" \\\\ bye"',
      expected: ['echo', 'say "hi" \\ bye'],
    },
    { reason: 'backslash escapes a space', input: 'ls my\\ dir', expected: ['ls', 'my dir'] },
    { reason: 'empty quoted word', input: `printf ''`, expected: ['printf', ''] },
    { reason: 'quotes join words', input: `a'b'"c"`, expected: ['abc'] },
    { reason: 'nothing', input: '', expected: [] },
  ];
  for (const { reason, input, expected } of cases) assert.deepEqual(splitCommand(input), expected, reason);
  assert.throws(() => splitCommand(`echo 'open`), /unterminated/);
});

test('durations: ms, s, m, h, combinations; a bare number is seconds', () => {
  const cases: readonly { reason: string; input: string; expected: number }[] = [
    { reason: 'milliseconds', input: '250ms', expected: 250 },
    { reason: 'seconds', input: '30s', expected: 30_000 },
    { reason: 'minutes (the default timeout)', input: '5m', expected: 300_000 },
    { reason: 'hours and minutes', input: '1h30m', expected: 5_400_000 },
    { reason: 'fractions', input: '1.5s', expected: 1500 },
    { reason: 'bare number', input: '90', expected: 90_000 },
  ];
  for (const { reason, input, expected } of cases) assert.equal(parseDuration(input), expected, reason);
  for (const bad of ['', 'soon', '5 m', '5d', 'm5', '-1s'])
    assert.throws(() => parseDuration(bad), UsageError, bad);
});

test('positive integers and choices', () => {
  assert.equal(parsePositiveInt('500', '--limit'), 500);
  for (const bad of ['0', '-1', '1.5', 'ten', ''])
    assert.throws(() => parsePositiveInt(bad, '--limit'), /--limit/);
  const state = parseChoice(['pending', 'dead'] as const, 'state');
  assert.equal(state('dead'), 'dead');
  assert.throws(() => state('alive'), /state must be one of pending, dead/);
});
