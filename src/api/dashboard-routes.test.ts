/** The dashboard's static files: served open with a strict CSP, by exact name, 503 page without a build. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { backends } from '../store/testing/test-databases.js';
import { DASHBOARD_CSP } from './dashboard-routes.js';
import { apiSuite } from './testing/api-harness.js';

const build = mkdtempSync(join(tmpdir(), 'lessor-dashboard-'));
mkdirSync(join(build, 'assets'));
writeFileSync(
  join(build, 'index.html'),
  '<!doctype html><script type="module" src="/assets/app-1a2b.js"></script>',
);
writeFileSync(join(build, 'assets', 'app-1a2b.js'), 'console.log(1)');
writeFileSync(join(build, 'assets', 'app-1a2b.css'), 'body{}');
writeFileSync(join(build, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
writeFileSync(join(build, 'assets', 'notes.txt'), 'not a served type');
const missing = join(build, 'does-not-exist');
after(() => rmSync(build, { recursive: true, force: true }));

const backend = backends()[0]!;

apiSuite(
  backend,
  'dashboard files',
  (h) => {
    h.test('/ is the index page, open, with a strict CSP and no caching', async () => {
      const res = await h.inject({ method: 'GET', url: '/', token: null });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['content-security-policy'], DASHBOARD_CSP);
      assert.doesNotMatch(DASHBOARD_CSP, /unsafe-inline|unsafe-eval|\*|http:|https:/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.match(res.body, /app-1a2b\.js/);
    });

    h.test('hashed assets are immutable and revalidate by ETag', async () => {
      const res = await h.inject({ method: 'GET', url: '/assets/app-1a2b.js', token: null });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/javascript/);
      assert.match(String(res.headers['cache-control']), /immutable/);
      const etag = String(res.headers.etag);
      const again = await h.inject({
        method: 'GET',
        url: '/assets/app-1a2b.js',
        token: null,
        headers: { 'if-none-match': etag },
      });
      assert.equal(again.statusCode, 304);
      const css = await h.inject({ method: 'GET', url: '/assets/app-1a2b.css', token: null });
      assert.match(String(css.headers['content-type']), /^text\/css/);
      const icon = await h.inject({ method: 'GET', url: '/favicon.svg', token: null });
      assert.equal(icon.statusCode, 200);
    });

    h.test('unknown names, other types and path tricks are 404 problems', async () => {
      for (const url of [
        '/assets/nope.js',
        '/assets/notes.txt',
        '/assets/../index.html',
        '/assets/%2e%2e/%2e%2e/package.json',
        '/assets/..%2f..%2fpackage.json',
      ]) {
        const res = await h.inject({ method: 'GET', url, token: 'viewer' });
        assert.equal(res.statusCode, 404, url);
        assert.match(String(res.headers['content-type']), /problem\+json/, url);
      }
      // Any other path is the API's: unknown to an anonymous caller (401), then 404.
      assert.equal((await h.inject({ method: 'GET', url: '/index.html', token: null })).statusCode, 401);
      assert.equal((await h.inject({ method: 'GET', url: '/index.html', token: 'viewer' })).statusCode, 404);
    });

    h.test('the API still needs its token next to the open dashboard', async () => {
      assert.equal((await h.inject({ method: 'GET', url: '/v1/tenants', token: null })).statusCode, 401);
      assert.equal((await h.inject({ method: 'GET', url: '/healthz', token: null })).statusCode, 200);
      assert.equal((await h.inject({ method: 'GET', url: '/openapi.json', token: null })).statusCode, 200);
    });
  },
  { dashboard: { dir: build } },
);

apiSuite(
  backend,
  'dashboard without a build',
  (h) => {
    h.test('/ answers 503 with a page that says how to build it; assets are 404', async () => {
      const res = await h.inject({ method: 'GET', url: '/', token: null });
      assert.equal(res.statusCode, 503);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, /npm run build:web/);
      assert.doesNotMatch(res.body, /<script/);
      assert.equal(res.headers['content-security-policy'], DASHBOARD_CSP);
      assert.equal((await h.inject({ method: 'GET', url: '/assets/a.js', token: null })).statusCode, 404);
    });
  },
  { dashboard: { dir: missing } },
);

apiSuite(
  backend,
  'dashboard turned off',
  (h) => {
    h.test('server.dashboard false: / is a 404 problem, the API unchanged', async () => {
      const res = await h.inject({ method: 'GET', url: '/', token: 'viewer' });
      assert.equal(res.statusCode, 404);
      assert.equal((await h.inject({ method: 'GET', url: '/v1/whoami', token: 'viewer' })).statusCode, 200);
    });
  },
  { dashboard: undefined },
);
