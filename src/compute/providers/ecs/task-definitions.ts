/**
 * The task definition a tenant runs: either the one the config names, or a revision of the family
 * `lessor-<tenant-name>` that Lessor registers from `image`/`cpu`/`memory`/`env`/… Registration is
 * idempotent: the newest ACTIVE revisions are checked for one tagged with this tenant and the same
 * content hash (keyed: the server's hasher) before a new revision is registered, so a retry (or an
 * unchanged update) reuses it.
 */
import { ComputeError } from '../../../domain/compute-error.js';
import type { ConfigHasher } from '../../../domain/config-hasher.js';
import type { Logger } from '../../../domain/logger.js';
import type { ComputeRequest, TenantRef } from '../../provider.js';
import type { EcsApi, RegisterTaskDefinitionInput } from './ecs-api.js';
import { CONTAINER_NAME, type EcsConfig } from './ecs-config.js';
import { lessorTags, TAG, taskFamily, toAwsTags } from './ecs-tags.js';

/** How many of the newest ACTIVE revisions are checked for a reusable one. */
const REUSE_WINDOW = 3;

export interface ResolvedTaskDefinition {
  readonly arn: string;
  /** True when this call registered a new revision. */
  readonly registered: boolean;
}

export async function ensureTaskDefinition(
  api: EcsApi,
  request: ComputeRequest,
  config: EcsConfig,
  signal: AbortSignal,
  logger: Logger,
  hash: ConfigHasher,
  defaultRegion: string | undefined,
): Promise<ResolvedTaskDefinition> {
  if (config.taskDefinitionArn !== undefined) return { arn: config.taskDefinitionArn, registered: false };
  const logs = logDestination(config, request.tenant, defaultRegion);
  const input = taskDefinitionInput(config, taskFamily(request.tenant), logs);
  const contentHash = hash(input);
  const existing = await findRevision(api, input.family ?? '', request.tenant.id, contentHash, signal);
  if (existing !== undefined) return { arn: existing, registered: false };
  const tags = toAwsTags(lessorTags(request, contentHash, config.tags));
  const arn = await api.registerTaskDefinition({ ...input, tags }, signal);
  logger.info(
    { tenantId: request.tenant.id, executionId: request.executionId, taskDefinitionArn: arn },
    'registered task definition',
  );
  return { arn, registered: true };
}

async function findRevision(
  api: EcsApi,
  family: string,
  tenantId: string,
  hash: string,
  signal: AbortSignal,
): Promise<string | undefined> {
  const arns = await api.listTaskDefinitions(family, REUSE_WINDOW, signal);
  for (const arn of arns.slice(0, REUSE_WINDOW)) {
    const tags = await api.taskDefinitionTags(arn, signal);
    if (tags[TAG.tenantId] === tenantId && tags[TAG.configHash] === hash) return arn;
  }
  return undefined;
}

/** Where the awslogs driver sends a tenant's output: its own stream prefix in the configured group. */
export interface LogDestination {
  readonly group: string;
  readonly region: string;
  /** `lessor-<tenant-id>`: streams are `<prefix>/app/<task-id>`, so one group may serve many tenants. */
  readonly streamPrefix: string;
}

/** The tenant's log destination, when its config asks for logs; the region falls back to the service's. */
export function logDestination(
  config: EcsConfig,
  tenant: TenantRef,
  defaultRegion: string | undefined,
): LogDestination | undefined {
  if (config.logs === undefined) return undefined;
  const region = config.logs.region ?? config.region ?? defaultRegion;
  if (region === undefined) {
    throw new ComputeError(
      'INVALID_CONFIG',
      'logs need a region: set logs.region, region, or the provider option region',
    );
  }
  return { group: config.logs.group, region, streamPrefix: `lessor-${tenant.id}` };
}

/** Everything registered except tags; its hash identifies the revision's content. */
export function taskDefinitionInput(
  config: EcsConfig,
  family: string,
  logs?: LogDestination,
): RegisterTaskDefinitionInput {
  return {
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: [config.launchType],
    ...(config.cpu !== undefined && { cpu: String(config.cpu) }),
    ...(config.memory !== undefined && { memory: String(config.memory) }),
    ...(config.executionRoleArn !== undefined && { executionRoleArn: config.executionRoleArn }),
    ...(config.taskRoleArn !== undefined && { taskRoleArn: config.taskRoleArn }),
    containerDefinitions: [
      {
        name: CONTAINER_NAME,
        image: config.image,
        essential: true,
        ...(config.command !== undefined && { command: [...config.command] }),
        environment: sortedEntries({ ...config.env, ...config.secretEnv }).map(([name, value]) => ({
          name,
          value,
        })),
        secrets: sortedEntries(config.secrets).map(([name, valueFrom]) => ({ name, valueFrom })),
        portMappings: (config.ports ?? []).map((p) => ({
          containerPort: p.containerPort,
          protocol: p.protocol ?? 'tcp',
          ...(p.name !== undefined && { name: p.name }),
        })),
        ...(logs !== undefined && {
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': logs.group,
              'awslogs-region': logs.region,
              'awslogs-stream-prefix': logs.streamPrefix,
            },
          },
        }),
      },
    ],
  };
}

function sortedEntries(map: Readonly<Record<string, string>> | undefined): [string, string][] {
  return Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
