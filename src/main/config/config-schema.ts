/**
 * The server configuration (README, "Configuration reference"): one zod schema holding every key and its
 * built-in default. Input may come from YAML (typed values) or from the environment and flags (strings), so
 * number and boolean fields accept their string spelling. Unknown keys are errors everywhere except inside a
 * provider block under `compute.providers`, whose keys belong to that provider.
 */
import { z } from 'zod';

import { COMPUTE_ERROR_CODES } from '../../domain/compute-error.js';
import { isLoopback } from '../../domain/loopback.js';
import { CreatePlanRequestSchema } from '../../api/schemas-plans.js';
import type { RetryPolicyConfig } from '../../domain/retry-policy.js';
import { decodeSecretKey } from '../../domain/secret-key-ring.js';
import { isIdentityKey } from '../../workflow/restate/identity-key.js';
import { parseCidr } from '../../callbacks/webhook-destination.js';

/** Strings that spell a finite number become that number; anything else is left for zod to reject. */
function toNumber(value: unknown): unknown {
  if (typeof value !== 'string' || value.trim() === '') return value;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : value;
}

function toBoolean(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

/** A whole number in [min, max]; every failure says the range. */
function integer(min: number, max: number = Number.MAX_SAFE_INTEGER) {
  const message =
    max === Number.MAX_SAFE_INTEGER
      ? `expected a whole number of at least ${min}`
      : `expected a number between ${min} and ${max}`;
  return z.preprocess(
    toNumber,
    z
      .number({ error: message })
      .int({ error: message })
      .min(min, { error: message })
      .max(max, { error: message }),
  );
}

function decimal(min: number) {
  const message = `expected a number of at least ${min}`;
  return z.preprocess(toNumber, z.number({ error: message }).min(min, { error: message }));
}

const boolean = z.preprocess(toBoolean, z.boolean({ error: 'expected true or false' }));

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of: ${values.join(', ')}` });
}

const port = integer(1, 65_535);
const durationMs = integer(1);
const host = z.string({ error: 'expected a host name or address' }).min(1, 'expected a host name or address');
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

/** Provider names are record keys set from the environment too, where they are upper-cased. */
export const PROVIDER_NAME = /^[a-z][a-z0-9_]*$/;

export const TOKEN_ROLES = ['admin', 'operator', 'viewer'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

const tokenSchema = z.strictObject({
  name: z.string({ error: 'expected a token name' }).min(1, 'expected a token name'),
  role: oneOf(TOKEN_ROLES),
  /** SHA-256 of the bearer token, hex; the token itself is never configured. */
  sha256: z
    .string({ error: 'expected the SHA-256 of the token as 64 hex digits' })
    .regex(/^[0-9a-fA-F]{64}$/, 'expected the SHA-256 of the token as 64 hex digits')
    .transform((hash) => hash.toLowerCase()),
});

const serverSchema = z.strictObject({
  host: host.default('127.0.0.1'),
  port: port.default(8080),
  tokens: z
    .array(tokenSchema, { error: 'expected a list of {name, role, sha256}' })
    .default([])
    .superRefine((tokens, ctx) => {
      const names = new Set<string>();
      tokens.forEach((token, index) => {
        if (names.has(token.name)) {
          ctx.addIssue({
            code: 'custom',
            path: [index, 'name'],
            message: `duplicate token name "${token.name}"`,
          });
        }
        names.add(token.name);
      });
    }),
  bodyLimitBytes: integer(1024).default(1_048_576),
  requestTimeoutMs: durationMs.default(30_000),
  rateLimit: z.strictObject({ perMinute: integer(0).default(6000) }).prefault({}),
  /** Failed authentications (401) allowed per client IP per minute; then 429 until it refills. 0: off. */
  authFailureLimit: z.strictObject({ perMinute: integer(0).default(30) }).prefault({}),
  /** One deadline for a clean stop (SIGTERM/SIGINT): work in flight gets this long, in total. */
  shutdownGraceMs: integer(0).default(10_000),
  /** The web dashboard at `/` (static files of the Vite build; the API is unchanged either way). */
  dashboard: boolean.default(true),
  /** `GET /metrics`: who may read it, and how often fleet-wide counts are read again. */
  metrics: z
    .strictObject({
      /** Callers on the local machine read it without a token. */
      openOnLoopback: boolean.default(true),
      /** SHA-256 of the token Prometheus presents (hex); the token itself is never configured. */
      tokenSha256: z
        .string({ error: 'expected the SHA-256 of the token as 64 hex digits' })
        .regex(/^[0-9a-fA-F]{64}$/, 'expected the SHA-256 of the token as 64 hex digits')
        .transform((hash) => hash.toLowerCase())
        .optional(),
      /** Tenants by phase, active runs and the callback outbox are counted at most this often. */
      refreshIntervalMs: durationMs.default(15_000),
    })
    .prefault({}),
  /** `GET /v1/events` (Server-Sent Events). */
  sse: z
    .strictObject({
      /** Open streams in this process; one more gets 503 with Retry-After. */
      maxStreams: integer(1).default(1000),
      /** Open streams per token (per IP when anonymous); one more gets 429 with Retry-After. */
      maxStreamsPerPrincipal: integer(1).default(20),
      /** Comment frames that keep idle streams (and proxies in between) alive. */
      heartbeatMs: durationMs.default(15_000),
      /** How often the shared event feed reads the log for other replicas' writes. */
      pollIntervalMs: durationMs.default(1000),
      /** Events a stream may have waiting for a slow client; past it the stream is closed (it resumes). */
      maxQueuedEvents: integer(1).default(1000),
    })
    .prefault({}),
});

/** Without tokens every caller is an anonymous admin: only the local machine may be one. */
function refuseAnonymousExposure(server: z.output<typeof serverSchema>, ctx: z.RefinementCtx): void {
  if (server.tokens.length > 0 || isLoopback(server.host)) return;
  ctx.addIssue({
    code: 'custom',
    path: ['host'],
    message: `refusing to listen on '${server.host}' without authentication: configure server.tokens or bind to 127.0.0.1`,
  });
}

const databaseSchema = z.strictObject({
  url: z
    .string({ error: 'expected sqlite:PATH or postgres://…' })
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'expected sqlite:PATH or postgres://…')
    .default('sqlite:lessor.db'),
  poolSize: integer(1, 1000).default(10),
  /** How long start-up keeps trying to reach the database before it gives up (exit 1). */
  connectTimeoutMs: durationMs.default(30_000),
});

const engineSchema = z
  .strictObject({
    type: oneOf(['embedded', 'restate']).default('embedded'),
    restate: z
      .strictObject({
        ingressUrl: httpUrl.optional(),
        adminUrl: httpUrl.optional(),
        /** Where Lessor serves its Restate service endpoint (registered with the admin API). */
        endpointPort: port.default(9080),
        endpointHost: host.default('127.0.0.1'),
        /**
         * Request-identity public keys (`publickeyv1_…`) of the Restate servers allowed to call the
         * endpoint; required off loopback, where anyone reaching the port could otherwise run steps.
         */
        identityKeys: z
          .array(
            z.string().refine(isIdentityKey, 'expected a Restate request-identity key (publickeyv1_…)'),
            { error: 'expected a list of publickeyv1_… keys' },
          )
          .default([]),
      })
      .prefault({}),
    embedded: z
      .strictObject({
        leaseMs: durationMs.default(15_000),
        pollIntervalMs: durationMs.default(1000),
      })
      .prefault({}),
  })
  .superRefine((engine, ctx) => {
    if (engine.type !== 'restate') return;
    for (const key of ['ingressUrl', 'adminUrl'] as const) {
      if (engine.restate[key] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['restate', key],
          message: 'required when engine.type is restate',
        });
      }
    }
    const { endpointHost, identityKeys } = engine.restate;
    if (identityKeys.length === 0 && !isLoopback(endpointHost)) {
      ctx.addIssue({
        code: 'custom',
        path: ['restate', 'endpointHost'],
        message: `refusing to serve the Restate endpoint on '${endpointHost}' without request signing: configure engine.restate.identityKeys or bind to 127.0.0.1`,
      });
    }
  });

const controllerSchema = z.strictObject({
  workers: integer(1, 256).default(4),
  resyncIntervalMs: durationMs.default(30_000),
  driftIntervalMs: durationMs.default(60_000),
  reconcileTimeoutMs: durationMs.default(30_000),
  rateLimitPerSecond: integer(1).default(2000),
});

/** A provider's block: the keys every provider understands; the rest is the provider's own. */
const providerBlockSchema = z.looseObject({
  /** Merged under every tenant's `spec.config` before validation (docs/api.md, "Tenants"). */
  defaults: z.record(z.string(), z.unknown(), { error: 'expected a mapping' }).optional(),
  /** Timeout of one call to this provider. */
  timeoutMs: durationMs.default(120_000),
});

const computeSchema = z
  .strictObject({
    defaultProvider: z
      .string()
      .regex(PROVIDER_NAME, 'expected a provider name (lower-case letters, digits, _)')
      .default('process'),
    /** A provider is enabled by having a block; the built-in default applies only when none is given. */
    providers: z
      .record(
        z.string().regex(PROVIDER_NAME, 'provider names are lower-case letters, digits and _'),
        // `docker:` with nothing under it is an empty block, as `docker: {}`.
        z.preprocess((block) => block ?? {}, providerBlockSchema),
        { error: 'expected a mapping of provider name to its settings' },
      )
      // prefault, not default: the built-in block is parsed, so it gets the block defaults too.
      .prefault({ process: {} }),
  })
  .superRefine((compute, ctx) => {
    if (!Object.hasOwn(compute.providers, compute.defaultProvider)) {
      const enabled = Object.keys(compute.providers).join(', ') || 'none';
      ctx.addIssue({
        code: 'custom',
        path: ['defaultProvider'],
        message: `provider "${compute.defaultProvider}" has no block under compute.providers (configured: ${enabled})`,
      });
    }
  });

const retryOverrideSchema = z.strictObject({
  maxAttempts: integer(1).optional(),
  initialBackoffMs: integer(0).optional(),
  maxBackoffMs: integer(0).optional(),
  multiplier: decimal(1).optional(),
  jitter: boolean.optional(),
  timeoutMs: durationMs.optional(),
  onError: z
    .partialRecord(oneOf(COMPUTE_ERROR_CODES), oneOf(['retry', 'fail', 'pause', 'rollback']))
    .optional(),
});

const retryPolicySchema = z.strictObject({
  provision: retryOverrideSchema.prefault({}),
  update: retryOverrideSchema.prefault({}),
  delete: retryOverrideSchema.prefault({}),
  suspend: retryOverrideSchema.prefault({}),
  resume: retryOverrideSchema.prefault({}),
});

const callbacksSchema = z
  .strictObject({
    maxAttempts: integer(1).default(8),
    initialBackoffMs: durationMs.default(200),
    maxBackoffMs: durationMs.default(30_000),
    /** How often the outbox is read for other replicas' rows (a queued callback wakes it at once). */
    pollIntervalMs: durationMs.default(1000),
  })
  .superRefine((callbacks, ctx) => {
    if (callbacks.maxBackoffMs < callbacks.initialBackoffMs) {
      ctx.addIssue({ code: 'custom', path: ['maxBackoffMs'], message: 'must be at least initialBackoffMs' });
    }
  });

const SECRET_KEY_MESSAGE = 'expected a 32-byte key as base64 (44 characters) or hex (64 digits)';
const secretKey = z
  .string({ error: SECRET_KEY_MESSAGE })
  .refine((text) => decodeSecretKey(text) !== undefined, SECRET_KEY_MESSAGE);

/** A list from YAML, JSON, or (environment) one comma-separated string. */
function toList(value: unknown): unknown {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : value;
}

/** Secret config values at rest (see docs/decisions.md, "Secrets at rest"). */
const secretsSchema = z.strictObject({
  /**
   * The key sealing secret values (AES-256-GCM); absent, the key file is used. Every replica
   * sharing a database needs the same key: set it (or a shared `keyFile`) for several replicas.
   */
  key: secretKey.optional(),
  /** Used when `key` is not set; relative to dataDir; created (mode 0600) on first start. */
  keyFile: z.string({ error: 'expected a file path' }).min(1, 'expected a file path').default('secrets.key'),
  /** Keys that still open values sealed under them (a rotation); nothing new is sealed with them. */
  previousKeys: z.preprocess(toList, z.array(secretKey, { error: 'expected a list of keys' })).default([]),
});

/** How long a kind of settled record is kept (fractions allowed); 0 keeps it forever. */
const retentionWindowSchema = z.strictObject({ days: decimal(0).default(30) });

/** What the retention sweep deletes and how (src/store/retention-sweeper.ts). */
const retentionSchema = z.strictObject({
  events: retentionWindowSchema.prefault({}),
  /** Workflow runs with their steps and promises. */
  runs: retentionWindowSchema.prefault({}),
  /** Compute executions with their history. */
  executions: retentionWindowSchema.prefault({}),
  /** Delivered callbacks (pending and dead ones are never swept). */
  callbacks: retentionWindowSchema.prefault({}),
  /** Webhook deliveries that finished (delivered, failed or dead), with their attempts. */
  webhookDeliveries: retentionWindowSchema.prefault({}),
  /** Rollouts that ended (succeeded, aborted or rolled back), with their member rows. */
  rollouts: retentionWindowSchema.prefault({}),
  sweepIntervalMs: durationMs.default(3_600_000),
  /** How often a pass starts from the oldest rows instead of where the last one stopped. */
  fullSweepIntervalMs: durationMs.default(86_400_000),
  /** Rows examined per batch (one short transaction); on SQLite a batch holds the process for its length. */
  batchSize: integer(1, 10_000).default(250),
});

const CIDR_MESSAGE = 'expected a list of CIDRs such as 127.0.0.0/8 or fd00::/8';

/** Outgoing webhooks (docs/api.md, "Webhooks"). */
const webhooksSchema = z
  .strictObject({
    /** Allow http:// endpoints (https only by default). */
    allowHttp: boolean.default(false),
    /** Non-public networks webhooks may reach anyway (loopback, private, link-local are refused). */
    allowedNetworks: z
      .preprocess(
        toList,
        z.array(
          z.string({ error: CIDR_MESSAGE }).refine((cidr) => parseCidr(cidr) !== undefined, CIDR_MESSAGE),
          { error: CIDR_MESSAGE },
        ),
      )
      .default([]),
    /** One attempt: connect, send, and the answer's headers and body. */
    timeoutMs: durationMs.default(10_000),
    /** Retries of a delivery stop this long after it was queued (or retried by hand): then dead. */
    retryWindowMs: durationMs.default(86_400_000),
    initialBackoffMs: durationMs.default(5_000),
    maxBackoffMs: durationMs.default(3_600_000),
    /** Attempts in flight to one webhook (per process). */
    maxConcurrencyPerEndpoint: integer(1, 1000).default(16),
    /** Attempts in flight in all (per process). */
    maxInFlight: integer(1, 100_000).default(256),
    /** How often the outbox is read for other replicas' writes and due retries. */
    pollIntervalMs: durationMs.default(1000),
    /** How long the secret a rotation replaced keeps signing. */
    secretOverlapMs: integer(0).default(86_400_000),
  })
  .superRefine((webhooks, ctx) => {
    if (webhooks.maxBackoffMs < webhooks.initialBackoffMs) {
      ctx.addIssue({ code: 'custom', path: ['maxBackoffMs'], message: 'must be at least initialBackoffMs' });
    }
  });

/**
 * Who may write tenants without a plan, or with overrides outside a plan's `allowedOverrides`:
 * `admin` (default) or `operator` (every writer). With no token configured every caller is the
 * admin, so the zero-setup start is unchanged.
 */
const policySchema = z.strictObject({
  rawSpecs: oneOf(['admin', 'operator']).default('admin'),
});

/** A JSON list from the environment (`LESSOR_PLANS='[…]'`), as it is from YAML. */
function jsonList(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/**
 * Plans declared in the file (so plans live in Git): upserted at start, a changed one getting a
 * new revision. Each entry is a plan as `POST /v1/plans` takes it; checked again against the
 * provider's schema at start.
 */
const plansSchema = z
  .preprocess(jsonList, z.array(CreatePlanRequestSchema, { error: 'expected a list of plans' }))
  .superRefine((plans, ctx) => {
    const seen = new Set<string>();
    plans.forEach((plan, i) => {
      if (seen.has(plan.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `plan '${plan.name}' is declared twice` });
      seen.add(plan.name);
    });
  });

const logSchema = z.strictObject({
  level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  format: oneOf(['json', 'pretty']).default('json'),
});

/** Tracing: off unless an OTLP/HTTP endpoint is set (docs/operations.md, "Traces"). */
const telemetrySchema = z.strictObject({
  otlp: z
    .strictObject({
      /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
      endpoint: httpUrl.optional(),
    })
    .prefault({}),
});

const rootSchema = z.strictObject({
  server: serverSchema.superRefine(refuseAnonymousExposure).prefault({}),
  database: databaseSchema.prefault({}),
  engine: engineSchema.prefault({}),
  controller: controllerSchema.prefault({}),
  compute: computeSchema.prefault({}),
  retryPolicy: retryPolicySchema.prefault({}),
  callbacks: callbacksSchema.prefault({}),
  webhooks: webhooksSchema.prefault({}),
  retention: retentionSchema.prefault({}),
  log: logSchema.prefault({}),
  secrets: secretsSchema.prefault({}),
  policy: policySchema.prefault({}),
  plans: plansSchema.default([]),
  telemetry: telemetrySchema.prefault({}),
  dataDir: z.string().min(1, 'expected a directory').default('./data'),
});

/**
 * Providers that run tenant code on Lessor's own host, as Lessor's user: reachable by every
 * operator once Lessor serves beyond loopback, so they must be enabled for that explicitly
 * (`compute.providers.<type>.allowRemote: true`, see docs/providers/process.md).
 */
const HOST_LOCAL_PROVIDERS: readonly string[] = ['process'];

function refuseRemoteHostLocalProviders(config: z.output<typeof rootSchema>, ctx: z.RefinementCtx): void {
  const { host } = config.server;
  if (isLoopback(host)) return;
  for (const type of HOST_LOCAL_PROVIDERS) {
    const block = config.compute.providers[type];
    // A provider block's own keys are not parsed here: `true` may arrive as text from the environment.
    if (block === undefined || toBoolean(block['allowRemote']) === true) continue;
    ctx.addIssue({
      code: 'custom',
      path: ['compute', 'providers', type, 'allowRemote'],
      message:
        `must be true to offer the ${type} provider on '${host}': it runs tenant commands ` +
        `on this host as Lessor's user (see docs/providers/${type}.md); otherwise configure other ` +
        `compute.providers, or bind server.host to 127.0.0.1`,
    });
  }
}

export const configSchema = rootSchema.superRefine(refuseRemoteHostLocalProviders);

/** Top-level keys, for the environment mapping (plain `LESSOR_X` variables must name one of these). */
export const TOP_LEVEL_KEYS: readonly string[] = Object.keys(configSchema.shape);

type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type LessorConfig = DeepReadonly<z.output<typeof configSchema>>;
export type LogConfig = LessorConfig['log'];
export type ProviderConfig = LessorConfig['compute']['providers'][string];
export type TokenConfig = LessorConfig['server']['tokens'][number];

// The retry policy block feeds domain/retry-policy's resolver unchanged.
const _retryPolicyFitsDomain = (config: LessorConfig): RetryPolicyConfig => config.retryPolicy;
