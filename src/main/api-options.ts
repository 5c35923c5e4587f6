/** The HTTP API's settings, from the configuration (the API itself has no built-in defaults). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiOptions } from '../api/api-deps.js';
import type { LessorConfig } from './config/load-config.js';

/**
 * The dashboard's build output (`npm run build:web`): `web/dist` of the package this module belongs
 * to — the nearest folder above it with a package.json, whether it runs from src/, dist/ or a
 * compiled copy elsewhere in the tree.
 */
export const DASHBOARD_DIR = join(packageRoot(dirname(fileURLToPath(import.meta.url))), 'web', 'dist');

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

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
    rawSpecs: config.policy.rawSpecs,
    // The feed's own settings (pollIntervalMs, maxQueuedEvents) go to the event feed instead.
    sse: { heartbeatMs, maxStreams, maxStreamsPerPrincipal },
    ...(server.dashboard && { dashboard: { dir: DASHBOARD_DIR } }),
    metrics: { openOnLoopback: server.metrics.openOnLoopback, tokenSha256: server.metrics.tokenSha256 },
  };
}
