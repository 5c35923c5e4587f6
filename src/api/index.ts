/**
 * What the composition root needs from the HTTP API. The CLI imports `client.ts` and `types.ts`
 * directly (they load no server code).
 */
export { createApiServer, API_VERSION } from './server.js';
export { hashToken, isLoopback, type Role, type TokenConfig } from './auth.js';
export type { ApiDeps, ApiOptions, ApiStore, ProviderCatalog, SseOptions } from './api-deps.js';
