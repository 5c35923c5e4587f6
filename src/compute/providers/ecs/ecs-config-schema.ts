/**
 * JSON Schema (2020-12) of the ecs provider's `spec.config`, served by discovery and enforced by the
 * compute layer after the provider defaults are merged. Secret fields are declared inline (the
 * redactor does not follow `$ref`).
 */
import { CODE_ENV_KEYS } from '../../code-env.js';
import type { JsonSchema } from '../../provider.js';

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const nonEmpty = { type: 'string', minLength: 1 } as const;
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const arn = { type: 'string', pattern: '^arn:aws[a-z-]*:' } as const;

const containerProperties = {
  image: {
    ...nonEmpty,
    description: 'Image to run; Lessor registers a task definition per config change.',
    'x-lessor-code': true,
  },
  command: {
    type: 'array',
    items: { type: 'string' },
    description: 'Overrides the image command.',
    'x-lessor-code': true,
  },
  cpu: { type: 'integer', minimum: 128, description: 'Task CPU units (1024 = 1 vCPU).' },
  memory: { type: 'integer', minimum: 128, description: 'Task memory in MiB.' },
  env: { ...stringMap, description: 'Environment variables.', 'x-lessor-code-keys': CODE_ENV_KEYS },
  secretEnv: {
    ...stringMap,
    'x-lessor-code-keys': CODE_ENV_KEYS,
    'x-lessor-secret': true,
    writeOnly: true,
    description: 'Secret environment variables (plain values in the task definition; prefer `secrets`).',
  },
  secrets: {
    type: 'object',
    additionalProperties: arn,
    description: 'Variables read by ECS from Secrets Manager / SSM: NAME → secret or parameter ARN.',
  },
  ports: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['containerPort'],
      properties: {
        containerPort: port,
        protocol: { enum: ['tcp', 'udp'], default: 'tcp' },
        name: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,62})$' },
      },
    },
  },
  executionRoleArn: { ...arn, description: 'Task execution role (image pull, logs, secrets).' },
  taskRoleArn: { ...arn, description: 'Role the application assumes.' },
  logs: {
    type: 'object',
    additionalProperties: false,
    required: ['group'],
    description:
      "Send the container's output to CloudWatch Logs (awslogs driver; the group must exist and the " +
      'execution role may write to it). `lessor tenants logs` reads it back.',
    properties: {
      group: { type: 'string', pattern: '^[.\\-_/#A-Za-z0-9]{1,512}$', description: 'Log group name.' },
      region: { ...nonEmpty, description: "The group's region; default: the tenant's region." },
    },
  },
} as const;

const serviceProperties = {
  taskDefinitionArn: {
    ...nonEmpty,
    description: 'Use this task definition (ARN or family:revision) as is.',
    'x-lessor-code': true,
  },
  cluster: { ...nonEmpty, default: 'default', description: 'Cluster name or ARN.' },
  desiredCount: { type: 'integer', minimum: 0, default: 1 },
  launchType: { enum: ['FARGATE', 'EC2'], default: 'FARGATE' },
  subnets: { type: 'array', items: nonEmpty, minItems: 1, maxItems: 16, uniqueItems: true },
  securityGroups: { type: 'array', items: nonEmpty, maxItems: 5, uniqueItems: true },
  assignPublicIp: { type: 'boolean', default: false },
  loadBalancer: {
    type: 'object',
    additionalProperties: false,
    required: ['targetGroupArn', 'containerPort'],
    properties: {
      targetGroupArn: arn,
      containerPort: port,
      containerName: { ...nonEmpty, description: "Default 'app' (the container Lessor registers)." },
    },
  },
  endpointUrl: { type: 'string', format: 'uri', description: 'Reported as the tenant endpoint.' },
  tags: { ...stringMap, description: 'Extra tags (the `lessor:` and `aws:` prefixes are reserved).' },
  region: { ...nonEmpty, description: 'Default: the provider option, then the AWS chain.' },
  assumeRole: {
    type: 'object',
    additionalProperties: false,
    required: ['roleArn'],
    properties: {
      roleArn: arn,
      externalId: { type: 'string', minLength: 2, maxLength: 1224 },
      sessionName: { type: 'string', pattern: '^[\\w+=,.@-]{2,64}$' },
    },
  },
  waitTimeoutMs: { type: 'integer', minimum: 0, description: 'How long to wait for a steady deployment.' },
} as const;

export const ECS_CONFIG_SCHEMA: JsonSchema = Object.freeze({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://lessor.dev/schemas/providers/ecs/config.json',
  title: 'ecs provider config',
  description: 'One ECS service per tenant. Give exactly one of `taskDefinitionArn` or `image`.',
  type: 'object',
  additionalProperties: false,
  oneOf: [{ required: ['taskDefinitionArn'] }, { required: ['image'] }],
  properties: { ...serviceProperties, ...containerProperties },
});
