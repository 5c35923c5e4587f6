/**
 * Task definitions of the fake ECS: revisions per family, ACTIVE, with tags, resolvable by ARN,
 * `family:revision` or family (newest ACTIVE), as RegisterTaskDefinition / ListTaskDefinitions /
 * DescribeTaskDefinition answer them.
 */
import { randomUUID } from 'node:crypto';
import {
  ClientException,
  type DescribeTaskDefinitionCommandInput,
  type ListTaskDefinitionsCommandInput,
  type RegisterTaskDefinitionCommandInput,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';

export interface StoredTaskDefinition {
  readonly definition: TaskDefinition;
  tags: Tag[];
}

/** `$metadata` as the SDK puts it on every output and exception. */
export function metadata(httpStatusCode: number) {
  return { httpStatusCode, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 };
}

export class FakeTaskDefinitions {
  private readonly stored = new Map<string, StoredTaskDefinition>();
  private readonly revisions = new Map<string, number>();

  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {}

  register(input: RegisterTaskDefinitionCommandInput) {
    const family = input.family ?? '';
    const fargate = input.requiresCompatibilities?.includes('FARGATE') ?? false;
    if (family === '' || (input.containerDefinitions ?? []).length === 0)
      throw clientError('Invalid task definition.');
    if (fargate && (input.cpu === undefined || input.memory === undefined)) {
      throw clientError('Fargate requires that cpu and memory be defined at the task level.');
    }
    const revision = (this.revisions.get(family) ?? 0) + 1;
    this.revisions.set(family, revision);
    const { tags = [], ...rest } = input;
    const definition: TaskDefinition = {
      ...rest,
      taskDefinitionArn: `arn:aws:ecs:${this.region}:${this.account}:task-definition/${family}:${revision}`,
      revision,
      status: 'ACTIVE',
      compatibilities: ['EC2', ...(fargate ? (['FARGATE'] as const) : [])],
      registeredAt: new Date(),
    };
    this.stored.set(definition.taskDefinitionArn ?? '', { definition, tags });
    return { taskDefinition: definition, tags, $metadata: metadata(200) };
  }

  list(input: ListTaskDefinitionsCommandInput) {
    const prefix = input.familyPrefix ?? '';
    const status = input.status ?? 'ACTIVE';
    const arns = [...this.stored.values()]
      .map((s) => s.definition)
      .filter((d) => (d.family ?? '').startsWith(prefix) && d.status === status)
      .sort((a, b) =>
        a.family === b.family ? (a.revision ?? 0) - (b.revision ?? 0) : a.family! < b.family! ? -1 : 1,
      )
      .map((d) => d.taskDefinitionArn ?? '');
    const ordered = input.sort === 'DESC' ? arns.reverse() : arns;
    return { taskDefinitionArns: ordered.slice(0, input.maxResults ?? 100), $metadata: metadata(200) };
  }

  describe(input: DescribeTaskDefinitionCommandInput) {
    const found = this.find(input.taskDefinition ?? '');
    if (found === undefined) throw clientError('Unable to describe task definition.');
    const tags = input.include?.includes('TAGS') ? { tags: found.tags } : {};
    return { taskDefinition: found.definition, ...tags, $metadata: metadata(200) };
  }

  resolve(ref: string): TaskDefinition | undefined {
    return this.find(ref)?.definition;
  }

  byArn(arn: string): StoredTaskDefinition | undefined {
    return this.stored.get(arn);
  }

  private find(ref: string): StoredTaskDefinition | undefined {
    const name = ref.slice(ref.lastIndexOf('/') + 1);
    const [family, revision] = name.split(':');
    const latest = revision === undefined ? this.revisions.get(family ?? '') : Number(revision);
    const arn = `arn:aws:ecs:${this.region}:${this.account}:task-definition/${family ?? ''}:${latest ?? 0}`;
    const found = this.stored.get(arn);
    return found?.definition.status === 'ACTIVE' ? found : undefined;
  }
}

function clientError(message: string): ClientException {
  return new ClientException({ message, $metadata: metadata(400) });
}
