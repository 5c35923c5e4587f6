import assert from 'node:assert/strict';
import { backends } from '../store/testing/test-databases.js';
import { hashToken } from './auth.js';
import { apiSuite } from './testing/api-harness.js';

const SCRAPE_TOKEN = 'scrape-token-0123456789';
const REMOTE = '10.1.2.3';
const backend = backends()[0]!;

apiSuite(
  backend,
  '/metrics access: loopback or a bearer token',
  (h) => {
    const cases = [
      { reason: 'loopback needs no token', remoteAddress: '127.0.0.1', auth: undefined, status: 200 },
      {
        reason: 'IPv4-mapped loopback is loopback',
        remoteAddress: '::ffff:127.0.0.1',
        auth: undefined,
        status: 200,
      },
      { reason: 'a remote caller without a token', remoteAddress: REMOTE, auth: undefined, status: 401 },
      {
        reason: 'a remote caller with the metrics token',
        remoteAddress: REMOTE,
        auth: SCRAPE_TOKEN,
        status: 200,
      },
      { reason: 'a remote caller with a wrong token', remoteAddress: REMOTE, auth: 'nope', status: 401 },
      {
        reason: 'a forwarded header does not make a caller local',
        remoteAddress: REMOTE,
        auth: undefined,
        status: 401,
        headers: { 'x-forwarded-for': '127.0.0.1' },
      },
    ];
    for (const c of cases) {
      h.test(`${c.reason}: ${c.status}`, async () => {
        const res = await h.inject({
          method: 'GET',
          url: '/metrics',
          token: null,
          remoteAddress: c.remoteAddress,
          headers: { ...(c.auth && { authorization: `Bearer ${c.auth}` }), ...c.headers },
        });
        assert.equal(res.statusCode, c.status, res.body);
        if (c.status === 200) assert.match(res.body, /# TYPE lessor_http_request_duration_seconds histogram/);
        else assert.equal(res.json<{ code: string }>().code, 'UNAUTHORIZED');
      });
    }
    h.test('a remote caller with an API token (viewer) reads it', async () => {
      const res = await h.inject({ method: 'GET', url: '/metrics', token: 'viewer', remoteAddress: REMOTE });
      assert.equal(res.statusCode, 200);
    });
  },
  { metrics: { openOnLoopback: true, tokenSha256: hashToken(SCRAPE_TOKEN) } },
);

apiSuite(
  backend,
  '/metrics access: openOnLoopback off',
  (h) => {
    h.test('a loopback caller needs the token too', async () => {
      const bare = await h.inject({ method: 'GET', url: '/metrics', token: null });
      assert.equal(bare.statusCode, 401);
      const withToken = await h.inject({
        method: 'GET',
        url: '/metrics',
        token: null,
        headers: { authorization: `Bearer ${SCRAPE_TOKEN}` },
      });
      assert.equal(withToken.statusCode, 200);
    });
  },
  { metrics: { openOnLoopback: false, tokenSha256: hashToken(SCRAPE_TOKEN) } },
);

apiSuite(
  backend,
  '/metrics access: no token anywhere',
  (h) => {
    h.test('a remote caller is refused outright (403)', async () => {
      const res = await h.inject({ method: 'GET', url: '/metrics', token: null, remoteAddress: REMOTE });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json<{ code: string }>().code, 'FORBIDDEN');
    });
  },
  { tokens: [], metrics: { openOnLoopback: true } },
);
