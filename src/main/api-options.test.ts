/**
 * The API has no defaults of its own: every limit comes from the configuration, whose schema is the
 * one place defaults live. (It once fell back to 1 200 requests a minute while the schema said 6 000.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiOptions } from '../api/api-deps.js';
import { apiOptionsOf } from './api-options.js';
import { loadConfig } from './config/load-config.js';
import { defaultConfig } from './config/testing/default-config.js';

test('ApiOptions has no optional limit: leaving one out does not compile (npm run typecheck)', () => {
  const { server } = defaultConfig();
  // @ts-expect-error rateLimitPerMinute is required: the API must not fall back to a rate of its own
  const noRateLimit: ApiOptions = {
    tokens: [],
    bodyLimitBytes: server.bodyLimitBytes,
    requestTimeoutMs: server.requestTimeoutMs,
  };
  // @ts-expect-error bodyLimitBytes is required
  const noBodyLimit: ApiOptions = {
    tokens: [],
    requestTimeoutMs: server.requestTimeoutMs,
    rateLimitPerMinute: server.rateLimit.perMinute,
  };
  // @ts-expect-error requestTimeoutMs is required
  const noTimeout: ApiOptions = {
    tokens: [],
    bodyLimitBytes: server.bodyLimitBytes,
    rateLimitPerMinute: server.rateLimit.perMinute,
  };
  assert.ok(noRateLimit && noBodyLimit && noTimeout);
});

test('apiOptionsOf passes every configured API setting through', () => {
  const config = loadConfig({
    cwd: '/nonexistent',
    env: {
      LESSOR_SERVER__BODY_LIMIT_BYTES: '4096',
      LESSOR_SERVER__REQUEST_TIMEOUT_MS: '1234',
      LESSOR_SERVER__RATE_LIMIT__PER_MINUTE: '77',
      LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake',
      LESSOR_COMPUTE__PROVIDERS__FAKE: '{}',
    },
  });
  assert.deepEqual(apiOptionsOf(config), {
    tokens: [],
    bodyLimitBytes: 4096,
    requestTimeoutMs: 1234,
    rateLimitPerMinute: 77,
    defaultProvider: 'fake',
  });
});
