/**
 * The ecs provider acts with Lessor's AWS credentials, so a tenant's config must not point them at
 * what the tenant may not use (a confused deputy): roles to pass or assume, secrets to read, task
 * definitions, target groups, clusters, regions, subnets, security groups and log groups (Lessor
 * reads a tenant's logs with its own credentials). Each such value is
 * accepted only when the admin allowed it (`compute.providers.ecs.allowed.<list>`, patterns with
 * `*`) or when it is the provider's own default for that field (its `defaults` block, the `region`
 * option, the `default` cluster). Nothing is allowed by default beyond the defaults.
 *
 * Task definition families `lessor-*` are Lessor's per-tenant registrations, which hold that
 * tenant's `secretEnv`: they are refused as a `taskDefinitionArn` whatever the lists say.
 */
import type { FieldProblem } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/tenant.js';
import { familyOf } from './ecs-api.js';
import { asEcsConfig, DEFAULT_CLUSTER, type EcsConfig } from './ecs-config.js';

export const ALLOW_LISTS = [
  'roleArns',
  'assumeRoleArns',
  'secretArns',
  'taskDefinitionArns',
  'targetGroupArns',
  'clusters',
  'regions',
  'subnets',
  'securityGroups',
  'logGroups',
] as const;

export type AllowListName = (typeof ALLOW_LISTS)[number];

/** Patterns per list, as configured (`*` matches any run of characters, `/` and `:` included). */
export type EcsAllowLists = Readonly<Record<AllowListName, readonly string[]>>;

export const NOTHING_ALLOWED: EcsAllowLists = Object.freeze(
  Object.fromEntries(ALLOW_LISTS.map((name) => [name, []])) as unknown as EcsAllowLists,
);

interface Rule {
  readonly patterns: readonly RegExp[];
  readonly defaults: ReadonlySet<string>;
}

/** What the checks need: the allow-lists compiled, merged with the provider's defaults. */
export type EcsPolicy = Readonly<Record<AllowListName, Rule>>;

export interface PolicySources {
  readonly allowed: EcsAllowLists;
  /** The provider's `defaults` block (merged under every tenant's config). */
  readonly defaults: JsonObject;
  /** The provider's `region` option. */
  readonly region?: string | undefined;
}

const LESSOR_FAMILY_PREFIX = 'lessor-';

export function ecsPolicy({ allowed, defaults, region }: PolicySources): EcsPolicy {
  const d = defaults as Partial<EcsConfig>;
  const defaultValues: Record<AllowListName, (string | undefined)[]> = {
    roleArns: [d.executionRoleArn, d.taskRoleArn],
    assumeRoleArns: [d.assumeRole?.roleArn],
    secretArns: Object.values(d.secrets ?? {}),
    taskDefinitionArns: [d.taskDefinitionArn],
    targetGroupArns: [d.loadBalancer?.targetGroupArn],
    clusters: [d.cluster ?? DEFAULT_CLUSTER],
    regions: [d.region, region],
    subnets: [...(d.subnets ?? [])],
    securityGroups: [...(d.securityGroups ?? [])],
    logGroups: [d.logs?.group],
  };
  return Object.fromEntries(
    ALLOW_LISTS.map((name) => [
      name,
      {
        patterns: allowed[name].map(compilePattern),
        defaults: new Set(defaultValues[name].filter((v): v is string => typeof v === 'string')),
      },
    ]),
  ) as unknown as EcsPolicy;
}

/** Problems of the values in `raw` (an effective config) that the policy does not allow. */
export function allowListProblems(raw: JsonObject, policy: EcsPolicy): FieldProblem[] {
  const config = asEcsConfig(raw);
  const checks: [string, AllowListName, string | undefined][] = [
    ['cluster', 'clusters', config.cluster],
    ['region', 'regions', config.region],
    ['taskDefinitionArn', 'taskDefinitionArns', config.taskDefinitionArn],
    ['executionRoleArn', 'roleArns', config.executionRoleArn],
    ['taskRoleArn', 'roleArns', config.taskRoleArn],
    ['assumeRole.roleArn', 'assumeRoleArns', config.assumeRole?.roleArn],
    ['loadBalancer.targetGroupArn', 'targetGroupArns', config.loadBalancer?.targetGroupArn],
    ['logs.group', 'logGroups', config.logs?.group],
    ['logs.region', 'regions', config.logs?.region],
    ...Object.entries(config.secrets ?? {}).map(([name, arn]): [string, AllowListName, string] => [
      `secrets.${name}`,
      'secretArns',
      arn,
    ]),
    ...listChecks('subnets', config.subnets),
    ...listChecks('securityGroups', config.securityGroups),
  ];
  const problems = checks.flatMap(([path, list, value]) =>
    value === undefined || permits(policy[list], value) ? [] : [refusal(path, list, value)],
  );
  const family = config.taskDefinitionArn === undefined ? undefined : familyOf(config.taskDefinitionArn);
  if (family?.startsWith(LESSOR_FAMILY_PREFIX)) {
    problems.push({
      path: 'taskDefinitionArn',
      message: `the family ${family} is a Lessor-registered tenant task definition: give an image instead`,
    });
  }
  return problems;
}

function listChecks(
  field: 'subnets' | 'securityGroups',
  values: readonly string[] | undefined,
): [string, AllowListName, string][] {
  return (values ?? []).map((value, i) => [`${field}.${i}`, field, value]);
}

function permits(rule: Rule, value: string): boolean {
  return rule.defaults.has(value) || rule.patterns.some((pattern) => pattern.test(value));
}

function refusal(path: string, list: AllowListName, value: string): FieldProblem {
  return {
    path,
    message: `'${value}' is neither the provider default nor in compute.providers.ecs.allowed.${list}`,
  };
}

/** The `allowed` option: a mapping of list name → patterns; unknown lists are errors (a typo would deny). */
export function parseAllowLists(value: unknown, problems: FieldProblem[]): EcsAllowLists {
  if (value === undefined) return NOTHING_ALLOWED;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ path: 'allowed', message: `must be a mapping of ${ALLOW_LISTS.join(', ')} to patterns` });
    return NOTHING_ALLOWED;
  }
  const lists: Record<string, readonly string[]> = { ...NOTHING_ALLOWED };
  for (const [name, patterns] of Object.entries(value)) {
    if (!(ALLOW_LISTS as readonly string[]).includes(name)) {
      problems.push({
        path: `allowed.${name}`,
        message: `unknown list (expected ${ALLOW_LISTS.join(', ')})`,
      });
    } else if (!Array.isArray(patterns) || !patterns.every((p) => typeof p === 'string' && p !== '')) {
      problems.push({ path: `allowed.${name}`, message: 'must be a list of non-empty strings' });
    } else {
      lists[name] = Object.freeze([...(patterns as string[])]);
    }
  }
  return Object.freeze(lists);
}

/** `arn:aws:iam::123456789012:role/app-*` → an anchored regular expression; only `*` is special. */
export function compilePattern(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}
