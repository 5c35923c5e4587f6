/**
 * The subset of the ECS API that Lessor needs, and its adapter over `@aws-sdk/client-ecs`. Only
 * type imports of the SDK here: the module itself is loaded lazily by the factory and passed in.
 * Every call forwards the caller's AbortSignal.
 */
import type * as EcsSdk from '@aws-sdk/client-ecs';
import { ComputeError } from '../../../domain/compute-error.js';
import { fromAwsTags, toAwsTags, type TagMap } from './ecs-tags.js';

export type EcsModule = typeof EcsSdk;
export type EcsService = EcsSdk.Service;
export type EcsDeployment = EcsSdk.Deployment;
export type CreateServiceInput = EcsSdk.CreateServiceCommandInput;
export type UpdateServiceInput = EcsSdk.UpdateServiceCommandInput;
export type RegisterTaskDefinitionInput = EcsSdk.RegisterTaskDefinitionCommandInput;
export type NetworkConfiguration = EcsSdk.NetworkConfiguration;
export type LoadBalancer = EcsSdk.LoadBalancer;
export type TaskDefinition = EcsSdk.TaskDefinition;

export interface EcsApi {
  /** DescribeServices with tags; `undefined` when ECS reports the service MISSING. INACTIVE ones are returned. */
  findService(cluster: string, name: string, signal: AbortSignal): Promise<EcsService | undefined>;
  createService(input: CreateServiceInput, signal: AbortSignal): Promise<EcsService>;
  updateService(input: UpdateServiceInput, signal: AbortSignal): Promise<EcsService>;
  deleteService(cluster: string, name: string, signal: AbortSignal): Promise<void>;
  tagResource(resourceArn: string, tags: TagMap, signal: AbortSignal): Promise<void>;
  /** Returns the new revision's ARN. */
  registerTaskDefinition(input: RegisterTaskDefinitionInput, signal: AbortSignal): Promise<string>;
  /** ACTIVE revisions of exactly `family`, newest first, at most `max`. */
  listTaskDefinitions(family: string, max: number, signal: AbortSignal): Promise<string[]>;
  taskDefinitionTags(taskDefinitionArn: string, signal: AbortSignal): Promise<TagMap>;
  /** DescribeTaskDefinition (e.g. for its containers' log configuration). */
  describeTaskDefinition(taskDefinitionArn: string, signal: AbortSignal): Promise<TaskDefinition>;
}

/** The adapter: one ECSClient (one region and credential set) behind the subset. */
export function sdkEcsApi(sdk: EcsModule, client: EcsSdk.ECSClient): EcsApi {
  const opts = (signal: AbortSignal) => ({ abortSignal: signal });
  return {
    async findService(cluster, name, signal) {
      const input = { cluster, services: [name], include: ['TAGS' as const] };
      const out = await client.send(new sdk.DescribeServicesCommand(input), opts(signal));
      const failure = out.failures?.[0];
      if (failure !== undefined && failure.reason !== 'MISSING') {
        throw new ComputeError(
          'INTERNAL',
          `DescribeServices failed for ${name}: ${failure.reason ?? 'unknown'}`,
          {
            providerError: failure,
          },
        );
      }
      return out.services?.find((s) => s.serviceName === name);
    },
    async createService(input, signal) {
      const out = await client.send(new sdk.CreateServiceCommand(input), opts(signal));
      return requireService(out.service, 'CreateService');
    },
    async updateService(input, signal) {
      const out = await client.send(new sdk.UpdateServiceCommand(input), opts(signal));
      return requireService(out.service, 'UpdateService');
    },
    async deleteService(cluster, service, signal) {
      await client.send(new sdk.DeleteServiceCommand({ cluster, service, force: true }), opts(signal));
    },
    async tagResource(resourceArn, tags, signal) {
      await client.send(new sdk.TagResourceCommand({ resourceArn, tags: toAwsTags(tags) }), opts(signal));
    },
    async registerTaskDefinition(input, signal) {
      const out = await client.send(new sdk.RegisterTaskDefinitionCommand(input), opts(signal));
      const arn = out.taskDefinition?.taskDefinitionArn;
      if (arn === undefined) throw new ComputeError('INTERNAL', 'RegisterTaskDefinition returned no ARN');
      return arn;
    },
    async listTaskDefinitions(family, max, signal) {
      const input = {
        familyPrefix: family,
        status: 'ACTIVE' as const,
        sort: 'DESC' as const,
        maxResults: max,
      };
      const out = await client.send(new sdk.ListTaskDefinitionsCommand(input), opts(signal));
      return (out.taskDefinitionArns ?? []).filter((arn) => familyOf(arn) === family);
    },
    async taskDefinitionTags(taskDefinition, signal) {
      const input = { taskDefinition, include: ['TAGS' as const] };
      const out = await client.send(new sdk.DescribeTaskDefinitionCommand(input), opts(signal));
      return fromAwsTags(out.tags);
    },
    async describeTaskDefinition(taskDefinition, signal) {
      const out = await client.send(new sdk.DescribeTaskDefinitionCommand({ taskDefinition }), opts(signal));
      if (out.taskDefinition === undefined) {
        throw new ComputeError('INTERNAL', `DescribeTaskDefinition returned nothing for ${taskDefinition}`);
      }
      return out.taskDefinition;
    },
  };
}

/** `arn:…:task-definition/<family>:<revision>` (or `family:revision`) → family. */
export function familyOf(taskDefinition: string): string {
  const name = taskDefinition.slice(taskDefinition.lastIndexOf('/') + 1);
  const colon = name.lastIndexOf(':');
  return colon < 0 ? name : name.slice(0, colon);
}

function requireService(service: EcsService | undefined, operation: string): EcsService {
  if (service === undefined) throw new ComputeError('INTERNAL', `${operation} returned no service`);
  return service;
}
