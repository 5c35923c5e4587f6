/** The HTTP API's settings, from the configuration (the API itself has no built-in defaults). */
import type { ApiOptions } from '../api/api-deps.js';
import type { LessorConfig } from './config/load-config.js';

export function apiOptionsOf(config: LessorConfig): ApiOptions {
  const { server } = config;
  const { heartbeatMs, maxStreams, maxStreamsPerPrincipal } = server.sse;
  return {
    tokens: server.tokens,
    bodyLimitBytes: server.bodyLimitBytes,
    requestTimeoutMs: server.requestTimeoutMs,
    rateLimitPerMinute: server.rateLimit.perMinute,
    authFailuresPerMinute: server.authFailureLimit.perMinute,
    defaultProvider: config.compute.defaultProvider,
    // The feed's own settings (pollIntervalMs, maxQueuedEvents) go to the event feed instead.
    sse: { heartbeatMs, maxStreams, maxStreamsPerPrincipal },
    metrics: { openOnLoopback: server.metrics.openOnLoopback, tokenSha256: server.metrics.tokenSha256 },
  };
}
