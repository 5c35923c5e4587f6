/** Builds the provider registry from `compute.providers`: a provider is enabled by having a block. */
import { createProviderRegistry, type ProviderEntry, type ProviderRegistry } from '../compute/provider-registry.js';
import type { ConfigHasher } from '../domain/config-hasher.js';
import { ValidationError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import type { JsonObject } from '../domain/tenant.js';
import type { LessorConfig } from './config/load-config.js';
import { PROVIDER_FACTORIES } from './provider-factories.js';

/** Provider call timeout when the block does not set `timeoutMs`. */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 120_000;

export async function buildProviders(
  config: LessorConfig,
  logger: Logger,
  hasher: ConfigHasher,
): Promise<ProviderRegistry> {
  const entries: ProviderEntry[] = [];
  try {
    for (const [type, block] of Object.entries(config.compute.providers)) {
      const load = PROVIDER_FACTORIES[type];
      if (!load) {
        throw new ValidationError(`unknown compute provider '${type}'`, [
          { path: `compute.providers.${type}`, message: `expected one of: ${Object.keys(PROVIDER_FACTORIES).join(', ')}` },
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
      const factory = await load();
      entries.push({ provider: await factory.create(settings), settings });
    }
  } catch (error) {
    await Promise.all(entries.map((entry) => entry.provider.close?.() ?? Promise.resolve()));
    throw error;
  }
  return createProviderRegistry(entries, { defaultProvider: config.compute.defaultProvider });
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
