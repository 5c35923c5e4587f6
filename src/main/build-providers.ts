/** Builds the provider registry from `compute.providers`: a provider is enabled by having a block. */
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

/** @throws ConfigError when a provider block is refused (unknown type, bad options). */
export async function buildProviders(
  config: LessorConfig,
  logger: Logger,
  hasher: ConfigHasher,
  /** Wraps each provider once built (e.g. with call metrics). */
  decorate: (provider: ComputeProvider) => ComputeProvider = (provider) => provider,
): Promise<ProviderRegistry> {
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
        timeoutMs,
        dataDir: config.dataDir,
        logger: logger.child({ provider: type }),
        hasher,
      };
      entries.push({ provider: decorate(await createProvider(type, load, settings)), settings });
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
