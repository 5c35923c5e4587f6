/**
 * Secret values at rest. A tenant spec's secret config values are sealed (AES-256-GCM, see
 * domain/secret-key-ring.ts) when its row is written and opened when it is read, so every store
 * consumer sees plaintext in memory — the compute path needs it — while the database holds
 * ciphertext only. Each value is bound to its tenant (`tenant:<id>`): a ciphertext copied into
 * another tenant's row does not open there.
 *
 * Which values are secret is the provider schema's business (`x-lessor-secret`), which the store
 * cannot import: the composition root passes it in as `SecretFields` (the provider registry's
 * `mapSecrets`). An archived tenant keeps no secrets: its secret values are stored erased (`***`).
 * A value found unsealed in a secret place (written before sealing existed) reads as it is and is
 * sealed by the next write or by `resealSecrets`.
 */
import { isSealed, sealedKeyId, type SecretKeyRing } from '../domain/secret-key-ring.js';
import type { JsonObject, JsonValue, TenantSpec } from '../domain/tenant.js';

/** Which config values of a provider's tenants are secret (the provider registry implements it). */
export interface SecretFields {
  /** `config` with each secret value replaced by `fn(value)`; the input is not modified. */
  mapSecrets(provider: string, config: JsonObject, fn: (value: JsonValue) => JsonValue): JsonObject;
  /**
   * False only when JSON text written by `JSON.stringify` holding `provider`'s config provably
   * holds no value `mapSecrets` would replace (secrets.ts, `mayHoldSecrets`). Without it, any text
   * may.
   */
  mayHoldSecrets?(provider: string, text: string): boolean;
}

export interface SecretsAtRest {
  /** Seals with its current key; opens with any of its keys. */
  readonly ring: SecretKeyRing;
  readonly fields: SecretFields;
}

/** What an archived tenant's secret values become: the same mask the API shows. */
export const ERASED_SECRET = '***';

/** What a codec seals inside: a provider's config (a tenant spec, a tenant revision, a plan spec). */
export interface SealableSpec {
  readonly provider: string;
  readonly config: JsonObject;
}

/**
 * The `spec` column's codec. Without secrets configured (tests, tools), specs are stored as given.
 * `tenantId` is the owner the values are bound to: a tenant's id, or for a plan codec
 * (`specCodec(secrets, 'plan')`) the plan's name.
 */
export interface SpecCodec {
  encode<S extends SealableSpec = TenantSpec>(tenantId: string, spec: S, archived: boolean): string;
  /** @throws SecretsError when a sealed value does not open (key missing, or not authentic). */
  decode<S extends SealableSpec = TenantSpec>(tenantId: string, text: string): S;
  /**
   * The spec for display: every secret value reads `***` and nothing is opened (no key needed, no
   * decryption). Without secrets configured the codec knows no secret fields: the caller redacts.
   */
  mask<S extends SealableSpec = TenantSpec>(text: string): S;
  /**
   * `text` when `mask(text)` provably replaces no value in it (a stored spec with no secret value
   * in it, as `JSON.stringify` wrote it, provider first): the masked spec is then `text` itself.
   * Undefined when it may hold one, or the provider cannot be read off the text's start. Without
   * secrets configured, `text` (the caller redacts).
   */
  unmaskedText(text: string): string | undefined;
  /**
   * Whether `encode` would store `text` differently in substance: a secret value unsealed, sealed
   * under a key other than the current one, or — archived — not erased.
   */
  isStale(tenantId: string, text: string, archived: boolean): boolean;
}

export const PLAIN_SPECS: SpecCodec = {
  encode: (_tenantId, spec) => JSON.stringify(spec),
  decode: <S>(_tenantId: string, text: string) => JSON.parse(text) as S,
  mask: <S>(text: string) => JSON.parse(text) as S,
  unmaskedText: (text) => text,
  isStale: () => false,
};

/** Whose values a codec binds them to: `tenant:<id>` (tenant specs and revisions) or `plan:<name>`. */
export type SealScope = 'tenant' | 'plan';

export function specCodec(secrets: SecretsAtRest | undefined, scope: SealScope = 'tenant'): SpecCodec {
  return secrets ? new SealedSpecs(secrets, scope) : PLAIN_SPECS;
}

class SealedSpecs implements SpecCodec {
  constructor(
    private readonly secrets: SecretsAtRest,
    private readonly scope: SealScope,
  ) {}

  encode<S extends SealableSpec>(tenantId: string, spec: S, archived: boolean): string {
    const { ring } = this.secrets;
    const context = this.contextOf(tenantId);
    const seal = archived
      ? () => ERASED_SECRET
      : (value: JsonValue) => ring.seal(JSON.stringify(value), context);
    return JSON.stringify(this.withSecrets(spec, seal));
  }

  decode<S extends SealableSpec>(tenantId: string, text: string): S {
    const spec = JSON.parse(text) as S;
    const context = this.contextOf(tenantId);
    const { ring } = this.secrets;
    return this.withSecrets(spec, (value) =>
      isSealed(value) ? (JSON.parse(ring.open(value, context)) as JsonValue) : value,
    );
  }

  mask<S extends SealableSpec>(text: string): S {
    return this.withSecrets(JSON.parse(text) as S, () => ERASED_SECRET);
  }

  unmaskedText(text: string): string | undefined {
    const provider = leadingProvider(text);
    if (provider === undefined) return undefined;
    return this.secrets.fields.mayHoldSecrets?.(provider, text) === false ? text : undefined;
  }

  isStale(tenantId: string, text: string, archived: boolean): boolean {
    const spec = JSON.parse(text) as SealableSpec;
    const current = this.secrets.ring.currentKeyId;
    let stale = false;
    this.withSecrets(spec, (value) => {
      if (archived) stale ||= value !== ERASED_SECRET;
      else stale ||= !isSealed(value) || sealedKeyId(value) !== current;
      return value;
    });
    return stale;
  }

  private withSecrets<S extends SealableSpec>(spec: S, fn: (value: JsonValue) => JsonValue): S {
    return { ...spec, config: this.secrets.fields.mapSecrets(spec.provider, spec.config, fn) };
  }

  private contextOf(owner: string): string {
    return `${this.scope}:${owner}`;
  }
}

const PROVIDER_FIRST = '{"provider":"';

/**
 * The provider `JSON.parse(text).provider` reads, when `text` starts with it and names no other
 * (`"provider"` nowhere else in the text, so no later duplicate key overrides it); else undefined.
 */
export function leadingProvider(text: string): string | undefined {
  if (!text.startsWith(PROVIDER_FIRST)) return undefined;
  const end = text.indexOf('"', PROVIDER_FIRST.length);
  if (end < 0) return undefined;
  const provider = text.slice(PROVIDER_FIRST.length, end);
  if (provider.includes('\\') || text.includes('"provider"', end)) return undefined;
  return provider;
}
