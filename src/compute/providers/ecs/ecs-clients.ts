/**
 * One ECS client per (region, assumed role), created on first use. Clients hold sockets and cached
 * credentials, nothing about tenants. Base credentials come from the standard AWS chain unless the
 * options pin static ones; `assumeRole` layers STS AssumeRole on top (refreshed before expiry).
 * `@aws-sdk/client-sts` is loaded only when a role is assumed, `@aws-sdk/client-cloudwatch-logs` only
 * when a tenant's logs are read (the CloudWatch Logs client shares the ECS client's region and
 * credentials).
 *
 * The pool is bounded: tenants choose region, role, external id and session name, so the set of
 * keys is open-ended. At most `capacity` clients are kept, least recently used evicted first; an
 * evicted client is destroyed once no call holds it (`use`), so an in-flight operation never loses
 * its sockets. The next use of an evicted key makes a new client (and assumes the role again).
 */
import type * as StsSdk from '@aws-sdk/client-sts';
import { sdkEcsApi, type EcsApi, type EcsModule } from './ecs-api.js';
import { sdkLogsApi, type LogsApi, type LogsModule } from './logs-api.js';
import type { AssumeRole } from './ecs-config.js';
import type { EcsOptions, StaticCredentials } from './ecs-options.js';

export type StsModule = typeof StsSdk;

interface Credentials extends StaticCredentials {
  readonly expiration?: Date;
}
type CredentialProvider = () => Promise<Credentials>;

export interface EcsClientTarget {
  readonly region?: string | undefined;
  readonly assumeRole?: AssumeRole | undefined;
}

const REFRESH_MARGIN_MS = 5 * 60_000;
const DEFAULT_SESSION_NAME = 'lessor';
/** Clients kept at most; a deployment rarely uses more than a few regions and roles. */
export const DEFAULT_POOL_CAPACITY = 32;

interface Slot {
  readonly entry: Promise<PoolEntry>;
  /** Calls of `use` running with this client. */
  users: number;
  /** Out of the pool: destroy once `users` drops to 0. */
  evicted: boolean;
}

export class EcsClients {
  /** Insertion order is recency: a used slot is moved to the end, the first one is evicted. */
  private readonly pool = new Map<string, Slot>();

  constructor(
    private readonly ecs: EcsModule,
    private readonly loadSts: () => Promise<StsModule>,
    private readonly options: EcsOptions,
    private readonly capacity = DEFAULT_POOL_CAPACITY,
    private readonly loadLogs: () => Promise<LogsModule> = () => import('@aws-sdk/client-cloudwatch-logs'),
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be ≥ 1');
  }

  /** Runs `fn` with the client for `target`; the client is not destroyed while `fn` runs. */
  use<T>(target: EcsClientTarget, fn: (api: EcsApi) => Promise<T>): Promise<T> {
    return this.holding(target, async (entry) => fn(entry.api));
  }

  /** Runs `fn` with the CloudWatch Logs client for `target` (same region and credentials as `use`). */
  useLogs<T>(target: EcsClientTarget, fn: (api: LogsApi) => Promise<T>): Promise<T> {
    return this.holding(target, async (entry) => fn(await entry.logs()));
  }

  private async holding<T>(target: EcsClientTarget, fn: (entry: PoolEntry) => Promise<T>): Promise<T> {
    const slot = this.acquire(target);
    slot.users++;
    try {
      return await fn(await slot.entry);
    } finally {
      slot.users--;
      if (slot.evicted && slot.users === 0) destroy(slot);
    }
  }

  /** Clients currently pooled (evicted ones still finishing a call excluded). */
  get size(): number {
    return this.pool.size;
  }

  async close(): Promise<void> {
    const slots = [...this.pool.values()];
    this.pool.clear();
    await Promise.allSettled(slots.map((slot) => slot.entry));
    for (const slot of slots) {
      slot.evicted = true;
      destroy(slot);
    }
  }

  /** The ARN the base credentials resolve to (STS GetCallerIdentity), in the default region. */
  async callerIdentity(signal: AbortSignal): Promise<string> {
    const { sdk, client } = await this.stsClient(this.options.region);
    try {
      const out = await client.send(new sdk.GetCallerIdentityCommand({}), { abortSignal: signal });
      return out.Arn ?? `account ${out.Account ?? 'unknown'}`;
    } finally {
      client.destroy();
    }
  }

  private acquire(target: EcsClientTarget): Slot {
    const region = target.region ?? this.options.region;
    const role = target.assumeRole;
    const key = JSON.stringify([
      region ?? null,
      role?.roleArn ?? null,
      role?.externalId ?? null,
      role?.sessionName ?? null,
    ]);
    const found = this.pool.get(key);
    if (found !== undefined) {
      this.pool.delete(key);
      this.pool.set(key, found);
      return found;
    }
    const slot: Slot = { entry: this.connect(region, role), users: 0, evicted: false };
    this.pool.set(key, slot);
    slot.entry.catch(() => {
      if (this.pool.get(key) === slot) this.pool.delete(key);
    });
    this.evictOverflow();
    return slot;
  }

  /** Drops least recently used slots beyond capacity; idle ones are destroyed at once. */
  private evictOverflow(): void {
    for (const [key, slot] of this.pool) {
      if (this.pool.size <= this.capacity) return;
      this.pool.delete(key);
      slot.evicted = true;
      if (slot.users === 0) destroy(slot);
    }
  }

  private async connect(region: string | undefined, role: AssumeRole | undefined): Promise<PoolEntry> {
    const sts = role === undefined ? undefined : await this.stsClient(region);
    const credentials =
      sts === undefined || role === undefined ? this.options.credentials : assumed(sts, role);
    const client = new this.ecs.ECSClient({
      ...(region !== undefined && { region }),
      ...(this.options.endpoint !== undefined && { endpoint: this.options.endpoint }),
      ...(credentials !== undefined && { credentials }),
      maxAttempts: this.options.maxAttempts,
    });
    let logsClient: { destroy(): void } | undefined;
    let logs: Promise<LogsApi> | undefined;
    const connectLogs = async (): Promise<LogsApi> => {
      const sdk = await this.loadLogs();
      const created = new sdk.CloudWatchLogsClient({
        ...(region !== undefined && { region }),
        ...(this.options.logsEndpoint !== undefined && { endpoint: this.options.logsEndpoint }),
        ...(credentials !== undefined && { credentials }),
        maxAttempts: this.options.maxAttempts,
      });
      logsClient = created;
      return sdkLogsApi(sdk, created);
    };
    const destroy = () => {
      client.destroy();
      logsClient?.destroy();
      sts?.client.destroy();
    };
    return {
      api: sdkEcsApi(this.ecs, client),
      logs: () =>
        (logs ??= connectLogs().catch((error: unknown) => {
          logs = undefined;
          throw error;
        })),
      destroy,
    };
  }

  private async stsClient(region: string | undefined): Promise<StsHandle> {
    const sdk = await this.loadSts();
    const client = new sdk.STSClient({
      ...(region !== undefined && { region }),
      ...(this.options.credentials !== undefined && { credentials: this.options.credentials }),
      maxAttempts: this.options.maxAttempts,
    });
    return { sdk, client };
  }
}

interface PoolEntry {
  readonly api: EcsApi;
  /** The CloudWatch Logs client, made on first use. */
  readonly logs: () => Promise<LogsApi>;
  readonly destroy: () => void;
}

function destroy(slot: Slot): void {
  slot.entry.then(
    (entry) => entry.destroy(),
    () => undefined,
  );
}

interface StsHandle {
  readonly sdk: StsModule;
  readonly client: StsSdk.STSClient;
}

/** A credential provider that assumes `role` and re-assumes it shortly before expiry. */
function assumed(sts: StsHandle, role: AssumeRole): CredentialProvider {
  let current: Credentials | undefined;
  return async () => {
    if (current === undefined || expiresSoon(current)) current = await assume(sts, role);
    return current;
  };
}

async function assume({ sdk, client }: StsHandle, role: AssumeRole): Promise<Credentials> {
  const out = await client.send(
    new sdk.AssumeRoleCommand({
      RoleArn: role.roleArn,
      RoleSessionName: role.sessionName ?? DEFAULT_SESSION_NAME,
      ...(role.externalId !== undefined && { ExternalId: role.externalId }),
    }),
  );
  const c = out.Credentials;
  if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined) {
    throw Object.assign(new Error(`AssumeRole ${role.roleArn} returned no credentials`), {
      name: 'AccessDenied',
    });
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    ...(c.SessionToken !== undefined && { sessionToken: c.SessionToken }),
    ...(c.Expiration !== undefined && { expiration: c.Expiration }),
  };
}

function expiresSoon(credentials: Credentials): boolean {
  return (
    credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < REFRESH_MARGIN_MS
  );
}
