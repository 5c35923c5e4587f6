import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../store/testing/test-databases.js';
import { isLoopbackAuthority, isLoopbackOrigin } from './loopback-guard.js';
import { apiSuite } from './testing/api-harness.js';
import type { Problem } from './types.js';

const ROUTES = ['/v1/tenants', '/healthz', '/readyz', '/metrics', '/openapi.json'];

describe('loopback guard: what counts as loopback', () => {
  const authorities = [
    { value: 'localhost', loopback: true, reason: 'the name' },
    { value: 'LOCALHOST:8080', loopback: true, reason: 'names are case-insensitive' },
    { value: '127.0.0.1:8080', loopback: true, reason: 'IPv4 loopback with a port' },
    { value: '127.9.8.7', loopback: true, reason: 'all of 127/8' },
    { value: '[::1]:8080', loopback: true, reason: 'IPv6 loopback' },
    { value: '[::1]', loopback: true, reason: 'IPv6 without a port' },
    { value: 'evil.example', loopback: false, reason: 'a rebound domain' },
    { value: 'evil.example:8080', loopback: false, reason: 'a rebound domain with the right port' },
    { value: 'localhost.evil.example', loopback: false, reason: 'localhost as a label' },
    { value: '127.0.0.1.nip.io', loopback: false, reason: 'an address-looking domain' },
    { value: '10.0.0.1:8080', loopback: false, reason: 'a private address' },
    { value: '0.0.0.0:8080', loopback: false, reason: 'the wildcard address' },
    { value: 'localhost:abc', loopback: false, reason: 'a port that is not a number' },
    { value: '::1', loopback: false, reason: 'IPv6 must be bracketed in Host' },
    { value: '', loopback: false, reason: 'empty' },
  ];
  for (const { value, loopback, reason } of authorities) {
    test(`Host '${value}' → ${loopback ? 'accepted' : 'refused'} (${reason})`, () => {
      assert.equal(isLoopbackAuthority(value), loopback);
    });
  }

  const origins = [
    { value: 'http://localhost:8080', loopback: true },
    { value: 'https://127.0.0.1', loopback: true },
    { value: 'http://[::1]:3000', loopback: true },
    { value: 'http://evil.example', loopback: false },
    { value: 'null', loopback: false },
    { value: 'file://localhost', loopback: false },
    { value: 'chrome-extension://abc', loopback: false },
  ];
  for (const { value, loopback } of origins) {
    test(`Origin '${value}' → ${loopback ? 'accepted' : 'refused'}`, () => {
      assert.equal(isLoopbackOrigin(value), loopback);
    });
  }
});

for (const backend of backends()) {
  apiSuite(
    backend,
    'DNS rebinding: no-token mode answers loopback Host and Origin only',
    (h) => {
      h.test('a non-loopback Host gets 421 MISDIRECTED_REQUEST on every route, open ones too', async () => {
        for (const url of ROUTES) {
          const res = await h.inject({ method: 'GET', url, token: null, headers: { host: 'evil.example' } });
          assert.equal(res.statusCode, 421, url);
          assert.equal(res.headers['content-type'], 'application/problem+json');
          assert.equal(res.json<Problem>().code, 'MISDIRECTED_REQUEST');
        }
      });

      h.test('a cross-site Origin gets 403 FORBIDDEN, even with a loopback Host', async () => {
        for (const origin of ['http://evil.example', 'null']) {
          const res = await h.inject({
            method: 'POST',
            url: '/v1/tenants',
            token: null,
            headers: { host: '127.0.0.1:8080', origin },
            payload: { name: 'rebound', spec: { config: { image: 'x' } } },
          });
          assert.equal(res.statusCode, 403, origin);
          assert.equal(res.json<Problem>().code, 'FORBIDDEN');
        }
        assert.equal(await h.store().tenants.get('rebound'), undefined, 'nothing was created');
      });

      h.test('loopback Host and Origin pass (inject sends Host localhost:80)', async () => {
        for (const headers of [
          {},
          { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' },
          { host: '[::1]:8080', origin: 'http://localhost:8080' },
        ]) {
          const res = await h.inject({ method: 'GET', url: '/v1/tenants', token: null, headers });
          assert.equal(res.statusCode, 200, JSON.stringify(headers));
        }
      });

      h.test('a real HTTP client pointed at 127.0.0.1 is served', async () => {
        const res = await fetch(`${await h.baseUrl()}/v1/tenants`);
        assert.equal(res.status, 200);
      });
    },
    { tokens: [] },
  );

  apiSuite(backend, 'DNS rebinding: with tokens the Host is not checked', (h) => {
    h.test('a token-authenticated request for any Host is served', async () => {
      const res = await h.inject({
        method: 'GET',
        url: '/v1/tenants',
        headers: { host: 'lessor.example.com', origin: 'https://dashboard.example.com' },
      });
      assert.equal(res.statusCode, 200);
    });
  });
}
