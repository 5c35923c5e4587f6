/**
 * One ECS client per (region, assumed role), created on first use and kept until `close`. Clients
 * hold sockets and cached credentials, nothing about tenants. Base credentials come from the
 * standard AWS chain unless the options pin static ones; `assumeRole` layers STS AssumeRole on top
 * (refreshed before expiry). `@aws-sdk/client-sts` is loaded only when a role is assumed.
 */
import type * as StsSdk from '@aws-sdk/client-sts';
import { sdkEcsApi, type EcsApi, type EcsModule } from './ecs-api.js';
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

export class EcsClients {
  private readonly pool = new Map<string, Promise<PoolEntry>>();

  constructor(
    private readonly ecs: EcsModule,
    private readonly loadSts: () => Promise<StsModule>,
    private readonly options: EcsOptions,
  ) {}

  async api(target: EcsClientTarget): Promise<EcsApi> {
    const region = target.region ?? this.options.region;
    const role = target.assumeRole;
    const key = JSON.stringify([
      region ?? null,
      role?.roleArn ?? null,
      role?.externalId ?? null,
      role?.sessionName ?? null,
    ]);
    let entry = this.pool.get(key);
    if (entry === undefined) {
      entry = this.connect(region, role);
      this.pool.set(key, entry);
      entry.catch(() => this.pool.delete(key));
    }
    return (await entry).api;
  }

  async close(): Promise<void> {
    const entries = await Promise.allSettled(this.pool.values());
    this.pool.clear();
    for (const entry of entries) if (entry.status === 'fulfilled') entry.value.destroy();
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
    const destroy = () => {
      client.destroy();
      sts?.client.destroy();
    };
    return { api: sdkEcsApi(this.ecs, client), destroy };
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
  readonly destroy: () => void;
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
