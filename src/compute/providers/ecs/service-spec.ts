/**
 * The ECS service a tenant's config asks for, the CreateService call that makes it, and the minimal
 * UpdateService call that moves an existing service to it (only the fields that differ).
 */
import { ComputeError } from '../../../domain/compute-error.js';
import type { ComputeRequest } from '../../provider.js';
import {
  familyOf,
  type CreateServiceInput,
  type EcsService,
  type LoadBalancer,
  type NetworkConfiguration,
  type UpdateServiceInput,
} from './ecs-api.js';
import { CONTAINER_NAME, type EcsConfig, type LaunchType } from './ecs-config.js';
import { clientToken, serviceName, toAwsTags, type TagMap } from './ecs-tags.js';

export interface DesiredService {
  readonly cluster: string;
  readonly name: string;
  readonly taskDefinition: string;
  readonly desiredCount: number;
  readonly launchType: LaunchType;
  readonly networkConfiguration?: NetworkConfiguration;
  readonly loadBalancers: readonly LoadBalancer[];
  readonly tags: TagMap;
}

export interface ServiceUpdate {
  /** Undefined when nothing but tags differs. */
  readonly input: UpdateServiceInput | undefined;
  readonly changes: readonly string[];
}

export function desiredService(
  request: ComputeRequest,
  config: EcsConfig,
  taskDefinition: string,
  tags: TagMap,
): DesiredService {
  const lb = config.loadBalancer;
  return {
    cluster: config.cluster,
    name: serviceName(request.tenant),
    taskDefinition,
    desiredCount: config.desiredCount,
    launchType: config.launchType,
    ...((config.subnets ?? []).length > 0 && {
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [...(config.subnets ?? [])],
          ...(config.securityGroups !== undefined && { securityGroups: [...config.securityGroups] }),
          assignPublicIp: config.assignPublicIp ? 'ENABLED' : 'DISABLED',
        },
      },
    }),
    loadBalancers:
      lb === undefined
        ? []
        : [
            {
              targetGroupArn: lb.targetGroupArn,
              containerName: lb.containerName ?? CONTAINER_NAME,
              containerPort: lb.containerPort,
            },
          ],
    tags,
  };
}

export function createServiceInput(desired: DesiredService, executionId: string): CreateServiceInput {
  return {
    cluster: desired.cluster,
    serviceName: desired.name,
    taskDefinition: desired.taskDefinition,
    desiredCount: desired.desiredCount,
    launchType: desired.launchType,
    schedulingStrategy: 'REPLICA',
    ...(desired.networkConfiguration !== undefined && { networkConfiguration: desired.networkConfiguration }),
    ...(desired.loadBalancers.length > 0 && { loadBalancers: [...desired.loadBalancers] }),
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: true },
      minimumHealthyPercent: 100,
      maximumPercent: 200,
    },
    clientToken: clientToken(executionId, desired.cluster, desired.name),
    tags: toAwsTags(desired.tags),
    propagateTags: 'SERVICE',
    enableECSManagedTags: true,
  };
}

/** The fields of `current` that differ from `desired`; a launch type change cannot be made in place. */
export function serviceUpdate(current: EcsService, desired: DesiredService): ServiceUpdate {
  if (current.launchType !== undefined && current.launchType !== desired.launchType) {
    throw new ComputeError(
      'INVALID_CONFIG',
      `launchType cannot change from ${current.launchType} to ${desired.launchType} in place; delete and provision again`,
    );
  }
  const changes: string[] = [];
  const input: UpdateServiceInput = { cluster: desired.cluster, service: desired.name };
  if (!sameTaskDefinition(current.taskDefinition, desired.taskDefinition)) {
    changes.push('taskDefinition');
    input.taskDefinition = desired.taskDefinition;
  }
  if (current.desiredCount !== desired.desiredCount) {
    changes.push('desiredCount');
    input.desiredCount = desired.desiredCount;
  }
  const network = desired.networkConfiguration;
  if (network !== undefined && !sameNetwork(current.networkConfiguration, network)) {
    changes.push('networkConfiguration');
    input.networkConfiguration = network;
  }
  if (loadBalancerKey(current.loadBalancers) !== loadBalancerKey(desired.loadBalancers)) {
    changes.push('loadBalancer');
    input.loadBalancers = [...desired.loadBalancers];
  }
  return { input: changes.length > 0 ? input : undefined, changes };
}

/** `family:revision` matches the full ARN; a bare family matches any of its revisions. */
function sameTaskDefinition(current: string | undefined, desired: string): boolean {
  if (current === undefined) return false;
  if (current === desired || current.endsWith(`/${desired}`)) return true;
  return !desired.includes(':') && familyOf(current) === desired;
}

/** Security groups left out of the config are ECS's choice (the VPC default): not a difference. */
function sameNetwork(current: NetworkConfiguration | undefined, desired: NetworkConfiguration): boolean {
  const have = current?.awsvpcConfiguration;
  const want = desired.awsvpcConfiguration;
  const sorted = (values: readonly string[] | undefined) => JSON.stringify([...(values ?? [])].sort());
  return (
    sorted(have?.subnets) === sorted(want?.subnets) &&
    (want?.securityGroups === undefined || sorted(have?.securityGroups) === sorted(want.securityGroups)) &&
    (have?.assignPublicIp ?? 'DISABLED') === (want?.assignPublicIp ?? 'DISABLED')
  );
}

function loadBalancerKey(balancers: readonly LoadBalancer[] | undefined): string {
  const keys = (balancers ?? []).map(
    (b) => `${b.targetGroupArn ?? ''}|${b.containerName ?? ''}|${b.containerPort ?? ''}`,
  );
  return JSON.stringify(keys.sort());
}
