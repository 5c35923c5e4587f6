/** Output: kubectl-like tables without colour off a TTY, JSON/YAML of the wire objects, ages. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { age, dash, render, renderList, renderTable, rowStream, type Column } from './output.js';
import { sampleTenant } from './testing/sample-tenant.js';
import { TENANT_COLUMNS } from './views.js';

const columns: readonly Column<{ a: string; b: string }>[] = [
  { header: 'A', value: (r) => r.a },
  { header: 'LONG HEADER', value: (r) => r.b },
];

test('tables align columns, separate them by three spaces and have no trailing spaces', () => {
  const text = renderTable(
    [
      { a: 'x', b: '1' },
      { a: 'longer', b: '2' },
    ],
    columns,
    false,
  );
  assert.equal(text, 'A        LONG HEADER\nx        1\nlonger   2\n');
});

test('tables carry no ANSI colour codes when the output is not a terminal', () => {
  const text = renderTable([{ a: 'x', b: 'y' }], columns, false);
  assert.ok(!text.includes('\u001b['));
});

test('a cell never breaks a row: newlines and tabs become spaces', () => {
  const text = renderTable([{ a: 'two\nlines', b: 'tab\there' }], columns, false);
  assert.equal(text.split('\n').length, 3);
  assert.match(text, /two lines/);
  assert.match(text, /tab here/);
});

test('tenant table columns: NAME, PHASE, COMPUTE (operation/status), GEN (observed/generation), PROVIDER, ENDPOINT, AGE', () => {
  const tenant = sampleTenant({ endpoints: [{ name: 'http', url: 'http://127.0.0.1:49153' }] }, 2);
  const [header, row] = renderTable([tenant], TENANT_COLUMNS, false).split('\n');
  assert.deepEqual(header?.split(/\s{2,}/), [
    'NAME',
    'PHASE',
    'COMPUTE',
    'GEN',
    'PROVIDER',
    'ENDPOINT',
    'AGE',
  ]);
  assert.deepEqual(row?.split(/\s{2,}/), [
    'acme',
    'provisioning',
    'provision/running',
    '0/2',
    'docker',
    'http://127.0.0.1:49153',
    '90s',
  ]);
});

test('tenant table: no compute and no endpoint show as -; paused is marked', () => {
  const tenant = {
    ...sampleTenant({ phase: 'requested', compute: null }),
    spec: { ...sampleTenant().spec, paused: true },
  };
  const row = renderTable([tenant], TENANT_COLUMNS, false).split('\n')[1] ?? '';
  assert.deepEqual(row.split(/\s{2,}/).slice(0, 3), ['acme', 'requested (paused)', '-']);
});

test('json and yaml show the wire object unchanged', () => {
  const tenant = sampleTenant();
  const json = render(tenant, { format: 'json', tty: false }, () => 'table');
  assert.deepEqual(JSON.parse(json), tenant);
  assert.ok(json.endsWith('\n'));
  const yaml = render(tenant, { format: 'yaml', tty: false }, () => 'table');
  assert.deepEqual(parseYaml(yaml), tenant);
  assert.equal(
    render(tenant, { format: 'table', tty: false }, () => 'table'),
    'table',
  );
});

test('lists: {items} as JSON, rows as a table, a note when empty', () => {
  const items = [{ a: '1', b: '2' }];
  assert.deepEqual(JSON.parse(renderList(items, columns, { format: 'json', tty: false })), { items });
  assert.equal(
    renderList([], columns, { format: 'table', tty: false }, 'No tenants found.'),
    'No tenants found.\n',
  );
  assert.deepEqual(JSON.parse(renderList([], columns, { format: 'json', tty: false })), { items: [] });
});

test('row streams print the header once and pad columns to fixed widths', () => {
  const row = rowStream(columns, [4, 0]);
  assert.equal(row({ a: 'x', b: '1' }), 'A      LONG HEADER\nx      1\n');
  assert.equal(row({ a: 'yy', b: '2' }), 'yy     2\n');
  assert.equal(
    row({ a: 'muchlonger', b: '3' }),
    'muchlonger   3\n',
    'a longer value pushes, never truncates',
  );
});

test('ages read like kubectl', () => {
  const now = Date.parse('2025-01-10T12:00:00Z');
  const cases: readonly { reason: string; iso: string | null; expected: string }[] = [
    { reason: 'seconds', iso: '2025-01-10T11:59:15Z', expected: '45s' },
    { reason: 'under two minutes stays in seconds', iso: '2025-01-10T11:58:01Z', expected: '119s' },
    { reason: 'minutes', iso: '2025-01-10T11:48:00Z', expected: '12m' },
    { reason: 'hours', iso: '2025-01-10T07:00:00Z', expected: '5h' },
    { reason: 'days', iso: '2025-01-07T12:00:00Z', expected: '3d' },
    { reason: 'clock skew is 0s', iso: '2025-01-10T12:00:05Z', expected: '0s' },
    { reason: 'missing', iso: null, expected: '-' },
    { reason: 'garbage', iso: 'yesterday', expected: '-' },
  ];
  for (const { reason, iso, expected } of cases) assert.equal(age(iso, now), expected, reason);
  assert.equal(dash(''), '-');
  assert.equal(dash(0), '0');
});
