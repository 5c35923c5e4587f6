/**
 * The API has no defaults of its own: every limit comes from the configuration, whose schema is the
 * one place defaults live. (It once fell back to 1 200 requests a minute while the schema said 6 000.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiOptions } from '../api/api-deps.js';
import { apiOptionsOf, DASHBOARD_DIR } from './api-options.js';
import { loadConfig } from './config/load-config.js';
import { defaultConfig } from './config/testing/default-config.js';

test('ApiOptions has no optional limit: leaving one out does not compile (npm run typecheck)', () => {
  const all = apiOptionsOf(defaultConfig());
  const { rateLimitPerMinute, ...withoutRateLimit } = all;
  const { bodyLimitBytes, ...withoutBodyLimit } = all;
  const { requestTimeoutMs, ...withoutTimeout } = all;
  const { authFailuresPerMinute, ...withoutAuthFailures } = all;
  const { sse, ...withoutSse } = all;
  // @ts-expect-error rateLimitPerMinute is required: the API must not fall back to a rate of its own
  const noRateLimit: ApiOptions = withoutRateLimit;
  // @ts-expect-error bodyLimitBytes is required
  const noBodyLimit: ApiOptions = withoutBodyLimit;
  // @ts-expect-error requestTimeoutMs is required
  const noTimeout: ApiOptions = withoutTimeout;
  // @ts-expect-error authFailuresPerMinute is required
  const noAuthFailureLimit: ApiOptions = withoutAuthFailures;
  // @ts-expect-error sse (the stream caps and heartbeat) is required
  const noSse: ApiOptions = withoutSse;
  assert.ok(noRateLimit && noBodyLimit && noTimeout && noAuthFailureLimit && noSse);
  assert.ok(
    [rateLimitPerMinute, bodyLimitBytes, requestTimeoutMs, authFailuresPerMinute, sse].every(Boolean),
  );
});

test('apiOptionsOf passes every configured API setting through', () => {
  const config = loadConfig({
    cwd: '/nonexistent',
    env: {
      LESSOR_SERVER__BODY_LIMIT_BYTES: '4096',
      LESSOR_SERVER__REQUEST_TIMEOUT_MS: '1234',
      LESSOR_SERVER__RATE_LIMIT__PER_MINUTE: '77',
      LESSOR_SERVER__AUTH_FAILURE_LIMIT__PER_MINUTE: '7',
      LESSOR_SERVER__SSE__HEARTBEAT_MS: '500',
      LESSOR_SERVER__DASHBOARD: 'false',
      LESSOR_SERVER__SSE__MAX_STREAMS: '9',
      LESSOR_SERVER__SSE__MAX_STREAMS_PER_PRINCIPAL: '3',
      LESSOR_SERVER__METRICS__OPEN_ON_LOOPBACK: 'false',
      LESSOR_SERVER__METRICS__TOKEN_SHA256: 'AB'.repeat(32),
      LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake',
      LESSOR_COMPUTE__PROVIDERS__FAKE: '{}',
    },
  });
  assert.deepEqual(apiOptionsOf(config), {
    tokens: [],
    bodyLimitBytes: 4096,
    requestTimeoutMs: 1234,
    rateLimitPerMinute: 77,
    authFailuresPerMinute: 7,
    defaultProvider: 'fake',
    rawSpecs: 'admin',
    sse: { heartbeatMs: 500, maxStreams: 9, maxStreamsPerPrincipal: 3 },
    metrics: { openOnLoopback: false, tokenSha256: 'ab'.repeat(32) },
  });
});

test('the dashboard is on by default, served from the web build directory', () => {
  assert.deepEqual(apiOptionsOf(defaultConfig()).dashboard, { dir: DASHBOARD_DIR });
  assert.match(DASHBOARD_DIR, /[/\\]web[/\\]dist$/);
});
