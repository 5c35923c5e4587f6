import assert from 'node:assert/strict';
import { test } from 'node:test';
import { href, matchRoute, parseHash } from './router.js';

const routes = [
  { path: '/', name: 'overview' },
  { path: '/tenants', name: 'tenants' },
  { path: '/tenants/:name', name: 'tenant' },
  { path: '/runs/:runId', name: 'run' },
];

test('matchRoute: literal and parameter segments, first match wins, query kept apart', () => {
  const cases = [
    { hash: '', want: 'overview', params: {}, reason: 'empty hash is the root' },
    { hash: '#/', want: 'overview', params: {}, reason: 'root' },
    { hash: '#/tenants', want: 'tenants', params: {}, reason: 'literal' },
    { hash: '#/tenants/', want: 'tenants', params: {}, reason: 'trailing slash' },
    { hash: '#/tenants/acme', want: 'tenant', params: { name: 'acme' }, reason: 'param' },
    {
      hash: '#/runs/a%3Aprovision%3Ag1',
      want: 'run',
      params: { runId: 'a:provision:g1' },
      reason: 'decoded',
    },
    { hash: '#tenants?phase=ready', want: 'tenants', params: {}, reason: 'no leading slash, a query' },
  ];
  for (const c of cases) {
    const match = matchRoute(routes, c.hash);
    assert.equal(match?.route.name, c.want, c.reason);
    assert.deepEqual(match?.params, c.params, c.reason);
  }
  assert.equal(matchRoute(routes, '#/tenants/a/b'), undefined, 'too many segments');
  assert.equal(matchRoute(routes, '#/nowhere'), undefined);
  assert.equal(matchRoute(routes, '#/tenants/%E0%A4%A'), undefined, 'malformed escape');
  assert.equal(parseHash('#/tenants?phase=ready&q=ac').query.get('q'), 'ac');
});

test('href fills parameters (encoded) and drops empty query values', () => {
  assert.equal(href('/tenants/:name', { name: 'a b' }), '#/tenants/a%20b');
  assert.equal(href('/tenants', {}, { phase: 'ready', q: '', labels: undefined }), '#/tenants?phase=ready');
  const back = matchRoute(routes, href('/runs/:runId', { runId: 'x:y' }));
  assert.deepEqual(back?.params, { runId: 'x:y' });
});
