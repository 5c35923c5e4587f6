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
}

export interface SecretsAtRest {
  /** Seals with its current key; opens with any of its keys. */
  readonly ring: SecretKeyRing;
  readonly fields: SecretFields;
}

/** What an archived tenant's secret values become: the same mask the API shows. */
export const ERASED_SECRET = '***';

/** The `spec` column's codec. Without secrets configured (tests, tools), specs are stored as given. */
export interface SpecCodec {
  encode(tenantId: string, spec: TenantSpec, archived: boolean): string;
  /** @throws SecretsError when a sealed value does not open (key missing, or not authentic). */
  decode(tenantId: string, text: string): TenantSpec;
  /**
   * Whether `encode` would store `text` differently in substance: a secret value unsealed, sealed
   * under a key other than the current one, or — archived — not erased.
   */
  isStale(tenantId: string, text: string, archived: boolean): boolean;
}

export const PLAIN_SPECS: SpecCodec = {
  encode: (_tenantId, spec) => JSON.stringify(spec),
  decode: (_tenantId, text) => JSON.parse(text) as TenantSpec,
  isStale: () => false,
};

export function specCodec(secrets: SecretsAtRest | undefined): SpecCodec {
  return secrets ? new SealedSpecs(secrets) : PLAIN_SPECS;
}

class SealedSpecs implements SpecCodec {
  constructor(private readonly secrets: SecretsAtRest) {}

  encode(tenantId: string, spec: TenantSpec, archived: boolean): string {
    const { ring } = this.secrets;
    const context = contextOf(tenantId);
    const seal = archived
      ? () => ERASED_SECRET
      : (value: JsonValue) => ring.seal(JSON.stringify(value), context);
    return JSON.stringify(this.withSecrets(spec, seal));
  }

  decode(tenantId: string, text: string): TenantSpec {
    const spec = JSON.parse(text) as TenantSpec;
    const context = contextOf(tenantId);
    const { ring } = this.secrets;
    return this.withSecrets(spec, (value) =>
      isSealed(value) ? (JSON.parse(ring.open(value, context)) as JsonValue) : value,
    );
  }

  isStale(tenantId: string, text: string, archived: boolean): boolean {
    const spec = JSON.parse(text) as TenantSpec;
    const current = this.secrets.ring.currentKeyId;
    let stale = false;
    this.withSecrets(spec, (value) => {
      if (archived) stale ||= value !== ERASED_SECRET;
      else stale ||= !isSealed(value) || sealedKeyId(value) !== current;
      return value;
    });
    return stale;
  }

  private withSecrets(spec: TenantSpec, fn: (value: JsonValue) => JsonValue): TenantSpec {
    return { ...spec, config: this.secrets.fields.mapSecrets(spec.provider, spec.config, fn) };
  }
}

function contextOf(tenantId: string): string {
  return `tenant:${tenantId}`;
}
