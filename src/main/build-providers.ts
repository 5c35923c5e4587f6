/** Builds the provider registry from `compute.providers`: a provider is enabled by having a block. */
import { isLoopback } from '../api/index.js';
import {
  createProviderRegistry,
  type ProviderEntry,
  type ProviderRegistry,
} from '../compute/provider-registry.js';
import type { ComputeProvider, ProviderFactory, ProviderSettings } from '../compute/provider.js';
import type { ConfigHasher } from '../domain/config-hasher.js';
import { ValidationError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import type { JsonObject } from '../domain/tenant.js';
import { ConfigError, type LessorConfig } from './config/load-config.js';
import { PROVIDER_FACTORIES } from './provider-factories.js';

/** Provider call timeout when the block does not set `timeoutMs`. */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 120_000;

/**
 * Providers that run tenant code on Lessor's own host, as Lessor's user: reachable by every
 * operator once Lessor serves beyond loopback, so they must be enabled for that explicitly
 * (`compute.providers.<type>.allowRemote: true`, see docs/providers/process.md).
 */
const HOST_LOCAL_PROVIDERS: ReadonlySet<string> = new Set(['process']);

/** @throws ConfigError when a provider block is refused (unknown type, bad options, exposure). */
export async function buildProviders(
  config: LessorConfig,
  logger: Logger,
  hasher: ConfigHasher,
): Promise<ProviderRegistry> {
  assertHostLocalProvidersAllowed(config);
  const entries: ProviderEntry[] = [];
  try {
    for (const [type, block] of Object.entries(config.compute.providers)) {
      const load = PROVIDER_FACTORIES[type];
      if (!load) {
        throw new ConfigError([
          {
            path: `compute.providers.${type}`,
            message: `unknown compute provider; expected one of: ${Object.keys(PROVIDER_FACTORIES).join(', ')}`,
          },
        ]);
      }
      const { defaults, timeoutMs, ...options } = block;
      const settings = {
        options: coerceScalars(options),
        defaults: (defaults ?? {}) as JsonObject,
        timeoutMs: timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS,
        dataDir: config.dataDir,
        logger: logger.child({ provider: type }),
        hasher,
      };
      entries.push({ provider: await createProvider(type, load, settings), settings });
    }
  } catch (error) {
    await Promise.all(entries.map((entry) => entry.provider.close?.() ?? Promise.resolve()));
    throw error;
  }
  return createProviderRegistry(entries, { defaultProvider: config.compute.defaultProvider });
}

/** Bad provider options are configuration errors: reported with their full key, and fatal. */
async function createProvider(
  type: string,
  load: () => Promise<ProviderFactory>,
  settings: ProviderSettings,
): Promise<ComputeProvider> {
  const factory = await load();
  try {
    return await factory.create(settings);
  } catch (error) {
    if (!(error instanceof ValidationError) || error instanceof ConfigError) throw error;
    const problems = error.problems.length > 0 ? error.problems : [{ path: '', message: error.message }];
    throw new ConfigError(
      problems.map((p) => ({
        path: ['compute', 'providers', type, p.path].filter((part) => part !== '').join('.'),
        message: p.message,
      })),
    );
  }
}

function assertHostLocalProvidersAllowed(config: LessorConfig): void {
  if (isLoopback(config.server.host)) return;
  const refused = Object.entries(config.compute.providers).filter(
    ([type, block]) => HOST_LOCAL_PROVIDERS.has(type) && coerceScalar(block.allowRemote) !== true,
  );
  if (refused.length === 0) return;
  throw new ConfigError(
    refused.map(([type]) => ({
      path: `compute.providers.${type}.allowRemote`,
      message:
        `must be true to offer the ${type} provider on '${config.server.host}': it runs tenant commands ` +
        `on this host as Lessor's user (see docs/providers/${type}.md); otherwise configure other ` +
        `compute.providers, or bind server.host to 127.0.0.1`,
    })),
  );
}

/**
 * Provider options set from the environment or `--set` arrive as strings, and only the provider
 * knows its keys: spell-outs of numbers and booleans become numbers and booleans here, once, so
 * `LESSOR_COMPUTE__PROVIDERS__FAKE__LATENCY_MS=400` means what the YAML `latencyMs: 400` means.
 */
function coerceScalars(options: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return Object.fromEntries(Object.entries(options).map(([key, value]) => [key, coerceScalar(value)]));
}

function coerceScalar(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}
