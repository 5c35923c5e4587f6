/**
 * The configured compute providers (README, configuration reference: `compute.providers`). Built once at
 * start-up by the composition root; read-only afterwards. It answers discovery (`list`, `schema`), resolves
 * which provider a spec means, computes the effective config (defaults merged under the spec, then schema-
 * and provider-validated) and says which config values are secret: for redaction in the API and logs, and for
 * sealing at rest (the store receives `mapSecrets` as its `SecretFields` port).
 */
import { ValidationError, type FieldProblem } from '../domain/errors.js';
import type { JsonObject } from '../domain/tenant.js';
import type { EffectiveConfig } from './compute-api.js';
import { mergeDefaults } from './config-merge.js';
import { compileConfigSchema, qualifyProblem, type ConfigValidator } from './config-validator.js';
import { supportsSuspend, type ComputeProvider, type JsonSchema, type ProviderSettings } from './provider.js';
import {
  mapSecretsByKeyName,
  mayHoldSecrets,
  mapSecretValues,
  REDACTED,
  secretValues,
  type SecretValueMap,
} from './secrets.js';

export interface ProviderEntry {
  readonly provider: ComputeProvider;
  readonly settings: ProviderSettings;
}

export interface ProviderInfo {
  readonly type: string;
  readonly defaults: JsonObject;
  readonly timeoutMs: number;
  readonly schemaUrl: string;
}

export interface ProviderRegistryOptions {
  /** `compute.defaultProvider`; when absent and exactly one provider is configured, that one. */
  readonly defaultProvider?: string | undefined;
}

export interface ProviderRegistry {
  readonly defaultProvider: string | undefined;
  list(): readonly ProviderInfo[];
  has(type: string): boolean;
  /** Throws ValidationError (`spec.provider`) for an unknown type. */
  get(type: string): ProviderEntry;
  schema(type: string): JsonSchema | undefined;
  /**
   * The provider a spec means: `specProvider` when given (must be configured), else
   * `defaultProvider` (argument, then the registry's), else the only configured provider.
   */
  resolveProvider(specProvider: string | undefined, defaultProvider?: string): string;
  /** Defaults merged under `config`, not validated (what execution ids hash). */
  mergedConfig(type: string, config: JsonObject): JsonObject;
  /** Schema then `provider.validate` problems of an already merged config, paths `spec.config.…`. */
  problems(type: string, merged: JsonObject): readonly FieldProblem[];
  /** Merged, validated config; throws ValidationError listing every problem. */
  effectiveConfig(type: string, config: JsonObject): EffectiveConfig;
  /** `config` with the provider schema's secret values shown as `"***"`. */
  redactSecrets(type: string, config: JsonObject): JsonObject;
  /**
   * `config` with each secret value replaced by `fn(value)` (see `mapSecretValues`); for a type
   * that is not configured, values of credential-named keys count as secret.
   */
  mapSecrets(type: string, config: JsonObject, fn: SecretValueMap): JsonObject;
  /**
   * False only when JSON text written by `JSON.stringify` that holds a config of `type` (the
   * config, or a spec around it) provably holds no value `mapSecrets` would replace.
   */
  mayHoldSecrets(type: string, text: string): boolean;
  /** The secret strings inside `config` (to scrub them from raw errors). */
  secretValues(type: string, config: JsonObject): readonly string[];
  /** Whether the provider offers an optional operation (`suspend` means suspend and resume). */
  supports(type: string, capability: ProviderCapability): boolean;
  /** Closes every provider (sockets, handles — never the runtimes). */
  close(): Promise<void>;
}

export type ProviderCapability = 'suspend' | 'logs';

export function createProviderRegistry(
  entries: Iterable<ProviderEntry>,
  options: ProviderRegistryOptions = {},
): ProviderRegistry {
  return new MapProviderRegistry(entries, options);
}

class MapProviderRegistry implements ProviderRegistry {
  private readonly entries = new Map<string, ProviderEntry>();
  private readonly validators = new Map<string, ConfigValidator>();
  readonly defaultProvider: string | undefined;

  constructor(entries: Iterable<ProviderEntry>, options: ProviderRegistryOptions) {
    for (const entry of entries) {
      const type = entry.provider.type;
      if (this.entries.has(type)) throw new Error(`compute provider '${type}' is configured twice`);
      this.entries.set(type, entry);
      this.validators.set(type, compileConfigSchema(entry.provider.configSchema()));
    }
    if (options.defaultProvider !== undefined && !this.entries.has(options.defaultProvider)) {
      throw new Error(`compute.defaultProvider '${options.defaultProvider}' is not a configured provider`);
    }
    this.defaultProvider = options.defaultProvider;
  }

  list(): readonly ProviderInfo[] {
    return [...this.entries.values()].map(({ provider, settings }) => ({
      type: provider.type,
      defaults: settings.defaults,
      timeoutMs: settings.timeoutMs,
      schemaUrl: `/v1/compute/providers/${encodeURIComponent(provider.type)}/schema`,
    }));
  }

  has(type: string): boolean {
    return this.entries.has(type);
  }

  supports(type: string, capability: ProviderCapability): boolean {
    const provider = this.entries.get(type)?.provider;
    if (!provider) return false;
    return capability === 'suspend' ? supportsSuspend(provider) : provider.logs !== undefined;
  }

  get(type: string): ProviderEntry {
    const entry = this.entries.get(type);
    if (!entry) throw unknownProvider(type, [...this.entries.keys()]);
    return entry;
  }

  schema(type: string): JsonSchema | undefined {
    return this.entries.get(type)?.provider.configSchema();
  }

  resolveProvider(specProvider: string | undefined, defaultProvider = this.defaultProvider): string {
    const wanted = specProvider !== undefined && specProvider !== '' ? specProvider : defaultProvider;
    if (wanted !== undefined) return this.get(wanted).provider.type;
    if (this.entries.size === 1) return [...this.entries.keys()][0]!;
    throw new ValidationError('spec.provider is required: no default compute provider is configured', [
      { path: 'spec.provider', message: `is required (one of: ${[...this.entries.keys()].join(', ')})` },
    ]);
  }

  mergedConfig(type: string, config: JsonObject): JsonObject {
    return mergeDefaults(this.get(type).settings.defaults, config);
  }

  problems(type: string, merged: JsonObject): readonly FieldProblem[] {
    const { provider } = this.get(type);
    const schemaProblems = this.validators.get(type)!(merged);
    if (schemaProblems.length > 0) return schemaProblems;
    return provider.validate(merged).map(qualifyProblem);
  }

  effectiveConfig(type: string, config: JsonObject): EffectiveConfig {
    const merged = this.mergedConfig(type, config);
    const problems = this.problems(type, merged);
    if (problems.length > 0) {
      throw new ValidationError(`spec.config is not valid for compute provider '${type}'`, problems);
    }
    return { provider: type, config: merged };
  }

  redactSecrets(type: string, config: JsonObject): JsonObject {
    return this.mapSecrets(type, config, () => REDACTED);
  }

  mapSecrets(type: string, config: JsonObject, fn: SecretValueMap): JsonObject {
    const schema = this.schema(type);
    return schema ? mapSecretValues(schema, config, fn) : mapSecretsByKeyName(config, fn);
  }

  mayHoldSecrets(type: string, text: string): boolean {
    return mayHoldSecrets(this.schema(type), text);
  }

  secretValues(type: string, config: JsonObject): readonly string[] {
    const schema = this.schema(type);
    return schema ? secretValues(schema, config) : [];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map(async (e) => e.provider.close?.()));
  }
}

function unknownProvider(type: string, known: readonly string[]): ValidationError {
  return new ValidationError(`compute provider '${type}' is not configured`, [
    {
      path: 'spec.provider',
      message: `unknown provider '${type}' (configured: ${known.join(', ') || 'none'})`,
    },
  ]);
}
