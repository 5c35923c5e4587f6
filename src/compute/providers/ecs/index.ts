/**
 * The ecs compute provider (AWS ECS): the one export `main/` wires in. Importing this folder does
 * not load the AWS SDK; `ecsProviderFactory.create` does.
 *
 * Options (`compute.providers.ecs`): `region`, `endpoint`, `credentials` (tests only; otherwise the
 * AWS chain), `maxAttempts` (3), `pollIntervalMs` (5000), `waitTimeoutMs` (90 % of the provider
 * timeout), `retryAfterMs` (5000), `allowed` (allow-lists of what tenants may name beyond the
 * provider defaults: ecs-allow-list.ts). See docs/providers/ecs.md.
 */
export { ecsProviderFactory } from './ecs-provider-factory.js';
export { ECS_CONFIG_SCHEMA } from './ecs-config-schema.js';
export type { EcsConfig } from './ecs-config.js';
export type { EcsOptions } from './ecs-options.js';
