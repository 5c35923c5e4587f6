/**
 * A small stateful ECS for tests, behind `aws-sdk-client-mock` (no AWS is reachable). Responses and
 * errors are shaped like the real API: services with deployments whose `rolloutState` advances
 * IN_PROGRESS → COMPLETED over successive DescribeServices calls, MISSING failures, DRAINING →
 * INACTIVE after DeleteService, task-definition revisions with tags, `$metadata` on every output and
 * the SDK's own exception classes. `capacity` caps running tasks (partial failures), `failRollouts`
 * makes deployments end FAILED, `inject` makes the next calls of a command throw. With `logs`, each
 * task that starts writes `startLines` to its awslogs stream (`<prefix>/<container>/<task-id>`), as
 * an application printing at start-up would.
 */
import { randomBytes } from 'node:crypto';
import {
  ClusterNotFoundException,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  InvalidParameterException,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  ResourceNotFoundException,
  ServiceNotActiveException,
  ServiceNotFoundException,
  TagResourceCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
  type DeleteServiceCommandInput,
  type DescribeServicesCommandInput,
  type Service,
  type Tag,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { FakeTaskDefinitions, metadata } from './fake-task-definitions.js';
import { advanceService, newDeployment } from './fake-rollout.js';
import type { FakeCloudWatchLogs } from './fake-cloudwatch-logs.js';

export interface FakeEcsOptions {
  readonly region?: string;
  readonly account?: string;
  readonly clusters?: readonly string[];
  /** DescribeServices calls a deployment takes to complete (default 2). */
  readonly rolloutSteps?: number;
  /** DescribeServices calls a DRAINING service takes to become INACTIVE (default 1). */
  readonly drainSteps?: number;
  /** Where tasks whose task definition uses the awslogs driver write their output. */
  readonly logs?: FakeCloudWatchLogs;
}

/** What a task of the fake prints when it starts. */
export const START_LINES = ['booting app', 'listening on :80'] as const;

type Handler = (input: never) => unknown;

export class FakeEcsBackend {
  readonly mock = mockClient(ECSClient);
  readonly calls: { readonly command: string; readonly input: unknown }[] = [];
  readonly taskDefinitions: FakeTaskDefinitions;
  /** Most tasks a service gets running (a cluster short of capacity). */
  capacity = Number.POSITIVE_INFINITY;
  /** New deployments end FAILED (the circuit breaker gave up). */
  failRollouts = false;
  rolloutSteps: number;
  drainSteps: number;
  /** Tasks started, oldest first (their ids name their log streams). */
  readonly startedTasks: string[] = [];
  private readonly logs: FakeCloudWatchLogs | undefined;
  private readonly region: string;
  private readonly account: string;
  private readonly clusters: Set<string>;
  private readonly services = new Map<string, Service>();
  private readonly tokens = new Map<string, string>();
  private readonly injected = new Map<string, (Error | null)[]>();
  private deployments = 0;
  /** DescribeServices calls seen per deployment id / draining service (rollout clock). */
  readonly ticks = new Map<string, number>();

  constructor(options: FakeEcsOptions = {}) {
    this.region = options.region ?? 'eu-west-1';
    this.account = options.account ?? '123456789012';
    this.clusters = new Set(options.clusters ?? ['default']);
    this.rolloutSteps = options.rolloutSteps ?? 2;
    this.drainSteps = options.drainSteps ?? 1;
    this.logs = options.logs;
    this.taskDefinitions = new FakeTaskDefinitions(this.region, this.account);
    this.install();
  }

  restore(): void {
    this.mock.restore();
  }

  /** The next calls of `command` (e.g. 'CreateService') throw these errors in turn; `null` lets one through. */
  inject(command: string, ...errors: (Error | null)[]): void {
    this.injected.set(command, [...(this.injected.get(command) ?? []), ...errors]);
  }

  callsOf(command: string): unknown[] {
    return this.calls.filter((c) => c.command === command).map((c) => c.input);
  }

  /** The stored service (a copy), e.g. to plant another tenant's service in a test. */
  service(cluster: string, name: string): Service | undefined {
    const found = this.services.get(`${cluster}/${name}`);
    return found === undefined ? undefined : structuredClone(found);
  }

  /** ACTIVE or DRAINING services tagged for `tenantId`, in any cluster. */
  liveServicesOf(tenantId: string): Service[] {
    return [...this.services.values()].filter(
      (s) =>
        s.status !== 'INACTIVE' &&
        (s.tags ?? []).some((t) => t.key === 'lessor:tenant-id' && t.value === tenantId),
    );
  }

  putService(cluster: string, service: Service): void {
    this.services.set(`${cluster}/${service.serviceName ?? ''}`, structuredClone(service));
  }

  private install(): void {
    const td = this.taskDefinitions;
    const routes: [string, { new (input: never): object }, Handler][] = [
      ['DescribeServices', DescribeServicesCommand, (i: DescribeServicesCommandInput) => this.describe(i)],
      ['CreateService', CreateServiceCommand, (i: CreateServiceCommandInput) => this.create(i)],
      ['UpdateService', UpdateServiceCommand, (i: UpdateServiceCommandInput) => this.update(i)],
      ['DeleteService', DeleteServiceCommand, (i: DeleteServiceCommandInput) => this.remove(i)],
      ['TagResource', TagResourceCommand, (i: { resourceArn: string; tags: Tag[] }) => this.tag(i)],
      ['RegisterTaskDefinition', RegisterTaskDefinitionCommand, (i: never) => td.register(i)],
      ['ListTaskDefinitions', ListTaskDefinitionsCommand, (i: never) => td.list(i)],
      ['DescribeTaskDefinition', DescribeTaskDefinitionCommand, (i: never) => td.describe(i)],
    ];
    for (const [name, command, handler] of routes) {
      this.mock.on(command as never).callsFake(async (input: unknown) => {
        this.calls.push({ command: name, input: structuredClone(input) });
        const error = this.injected.get(name)?.shift();
        if (error !== undefined && error !== null) throw error;
        return structuredClone(handler(input as never));
      });
    }
  }

  private clusterName(cluster: string | undefined): string {
    const name = (cluster ?? 'default').slice((cluster ?? '').lastIndexOf('/') + 1);
    if (!this.clusters.has(name))
      throw new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: metadata(400) });
    return name;
  }

  private find(cluster: string, ref: string): Service | undefined {
    return this.services.get(`${cluster}/${ref.slice(ref.lastIndexOf('/') + 1)}`);
  }

  private describe(input: DescribeServicesCommandInput) {
    const cluster = this.clusterName(input.cluster);
    const services: Service[] = [];
    const failures: { arn: string; reason: string }[] = [];
    for (const ref of input.services ?? []) {
      const service = this.find(cluster, ref);
      if (service === undefined) failures.push({ arn: this.serviceArn(cluster, ref), reason: 'MISSING' });
      else {
        const before = new Map((service.deployments ?? []).map((d) => [d.id, d.runningCount ?? 0]));
        advanceService(service, this);
        for (const d of service.deployments ?? []) {
          const started = (d.runningCount ?? 0) - (before.get(d.id) ?? 0);
          for (let i = 0; i < started; i++) this.startTask(d.taskDefinition);
        }
        const { tags, ...rest } = service;
        services.push(input.include?.includes('TAGS') ? { ...rest, tags } : rest);
      }
    }
    return { services, failures, $metadata: metadata(200) };
  }

  /** A task starts: it prints its start lines to its awslogs stream, if its definition has one. */
  private startTask(taskDefinitionArn: string | undefined): void {
    const taskId = randomBytes(16).toString('hex');
    this.startedTasks.push(taskId);
    const definition = this.taskDefinitions.resolve(taskDefinitionArn ?? '');
    for (const container of definition?.containerDefinitions ?? []) {
      const options = container.logConfiguration?.options ?? {};
      const group = options['awslogs-group'];
      const prefix = options['awslogs-stream-prefix'];
      if (container.logConfiguration?.logDriver !== 'awslogs' || group === undefined) continue;
      const stream = `${prefix ?? ''}/${container.name ?? ''}/${taskId}`;
      for (const line of START_LINES) this.logs?.put(group, stream, line);
    }
  }

  private create(input: CreateServiceCommandInput) {
    const cluster = this.clusterName(input.cluster);
    const name = input.serviceName ?? '';
    const existing = this.find(cluster, name);
    if (existing !== undefined && existing.status !== 'INACTIVE') {
      const sameToken =
        input.clientToken !== undefined && this.tokens.get(input.clientToken) === existing.serviceArn;
      if (sameToken) return { service: existing, $metadata: metadata(200) };
      throw invalid('Creation of service was not idempotent.');
    }
    const taskDefinition = this.taskDefinitions.resolve(input.taskDefinition ?? '');
    if (taskDefinition?.networkMode === 'awsvpc' && input.networkConfiguration === undefined) {
      throw invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
    }
    const service: Service = {
      serviceArn: this.serviceArn(cluster, name),
      serviceName: name,
      clusterArn: `arn:aws:ecs:${this.region}:${this.account}:cluster/${cluster}`,
      status: 'ACTIVE',
      desiredCount: input.desiredCount ?? 1,
      runningCount: 0,
      pendingCount: 0,
      launchType: input.launchType,
      taskDefinition: taskDefinition?.taskDefinitionArn,
      networkConfiguration: input.networkConfiguration,
      loadBalancers: input.loadBalancers ?? [],
      deployments: [
        newDeployment(++this.deployments, input.desiredCount ?? 1, taskDefinition?.taskDefinitionArn),
      ],
      tags: input.tags ?? [],
      createdAt: new Date(),
    };
    if (input.clientToken !== undefined) this.tokens.set(input.clientToken, service.serviceArn ?? '');
    this.services.set(`${cluster}/${name}`, service);
    return { service, $metadata: metadata(200) };
  }

  private update(input: UpdateServiceCommandInput) {
    const service = this.activeService(input.cluster, input.service ?? '');
    const redeploy = input.taskDefinition !== undefined || input.networkConfiguration !== undefined;
    if (input.taskDefinition !== undefined) {
      service.taskDefinition = this.taskDefinitions.resolve(input.taskDefinition)?.taskDefinitionArn;
    }
    if (input.networkConfiguration !== undefined) service.networkConfiguration = input.networkConfiguration;
    if (input.loadBalancers !== undefined) service.loadBalancers = input.loadBalancers;
    if (input.desiredCount !== undefined) service.desiredCount = input.desiredCount;
    const deployments = service.deployments ?? [];
    if (redeploy) {
      for (const d of deployments) d.status = 'ACTIVE';
      deployments.unshift(
        newDeployment(++this.deployments, service.desiredCount ?? 0, service.taskDefinition),
      );
    } else {
      const primary = deployments.find((d) => d.status === 'PRIMARY');
      if (primary !== undefined) primary.desiredCount = service.desiredCount;
    }
    service.deployments = deployments;
    return { service, $metadata: metadata(200) };
  }

  private remove(input: DeleteServiceCommandInput) {
    const service = this.activeService(input.cluster, input.service ?? '');
    if ((service.desiredCount ?? 0) > 0 && input.force !== true) {
      throw invalid('The service cannot be stopped while it is scaled above 0.');
    }
    service.status = 'DRAINING';
    service.desiredCount = 0;
    for (const d of service.deployments ?? []) d.desiredCount = 0;
    return { service, $metadata: metadata(200) };
  }

  private tag(input: { resourceArn: string; tags: Tag[] }) {
    const service = [...this.services.values()].find((s) => s.serviceArn === input.resourceArn);
    const target = service ?? this.taskDefinitions.byArn(input.resourceArn);
    if (target === undefined) {
      throw new ResourceNotFoundException({
        message: 'The specified resource could not be found.',
        $metadata: metadata(400),
      });
    }
    const merged = new Map((target.tags ?? []).map((t) => [t.key, t.value]));
    for (const t of input.tags) merged.set(t.key, t.value);
    target.tags = [...merged].map(([key, value]) => ({ key, value }));
    return { $metadata: metadata(200) };
  }

  private activeService(clusterRef: string | undefined, ref: string): Service {
    const service = this.find(this.clusterName(clusterRef), ref);
    if (service === undefined) {
      throw new ServiceNotFoundException({ message: 'Service not found.', $metadata: metadata(400) });
    }
    if (service.status !== 'ACTIVE') {
      throw new ServiceNotActiveException({ message: 'Service was not ACTIVE.', $metadata: metadata(400) });
    }
    return service;
  }

  private serviceArn(cluster: string, name: string): string {
    return `arn:aws:ecs:${this.region}:${this.account}:service/${cluster}/${name.slice(name.lastIndexOf('/') + 1)}`;
  }
}

function invalid(message: string): Error {
  return new InvalidParameterException({ message, $metadata: metadata(400) });
}
