/** The HTTP API's settings, from the configuration (the API itself has no built-in defaults). */
import type { ApiOptions } from '../api/api-deps.js';
import type { LessorConfig } from './config/load-config.js';

export function apiOptionsOf(config: LessorConfig): ApiOptions {
  return {
    tokens: config.server.tokens,
    bodyLimitBytes: config.server.bodyLimitBytes,
    requestTimeoutMs: config.server.requestTimeoutMs,
    rateLimitPerMinute: config.server.rateLimit.perMinute,
    defaultProvider: config.compute.defaultProvider,
  };
}
