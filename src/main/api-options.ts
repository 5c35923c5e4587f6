/** The HTTP API's settings, from the configuration (the API itself has no built-in defaults). */
import { fileURLToPath } from 'node:url';
import type { ApiOptions } from '../api/api-deps.js';
import type { LessorConfig } from './config/load-config.js';

/** The dashboard's build output (`npm run build:web`), the same from src/main and dist/main. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

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
    ...(server.dashboard && { dashboard: { dir: DASHBOARD_DIR } }),
  };
}
