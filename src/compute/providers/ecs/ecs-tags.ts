/**
 * Deterministic names and discovery tags. The service and task-definition family are both
 * `lessor-<tenant-name>`; ownership is the `lessor:tenant-id` tag, so a fresh provider (after a
 * restart of Lessor) recognises its tenant's service, and never touches another tenant's.
 */
import { sha256Hex } from '../../../domain/canonical-json.js';
import type { Endpoint } from '../../../domain/tenant.js';
import type { ComputeRequest, TenantRef } from '../../provider.js';

export const TAG = {
  tenantId: 'lessor:tenant-id',
  tenantName: 'lessor:tenant-name',
  generation: 'lessor:generation',
  executionId: 'lessor:execution-id',
  configHash: 'lessor:config-hash',
  managed: 'lessor:managed',
  endpointUrl: 'lessor:endpoint-url',
} as const;

export type TagMap = Readonly<Record<string, string>>;

/** The ECS wire shape of a tag (lower-case keys, unlike most AWS APIs). */
export interface AwsTag {
  key?: string | undefined;
  value?: string | undefined;
}

/** ECS tag values allow letters, digits, spaces and `+ - = . _ : / @`, up to 256 characters. */
const TAG_VALUE = /^[\p{L}\p{N}\s+\-=._:/@]{0,256}$/u;

export function serviceName(tenant: TenantRef): string {
  return `lessor-${tenant.name}`;
}

export function taskFamily(tenant: TenantRef): string {
  return `lessor-${tenant.name}`;
}

/** CreateService idempotency token (≤ 36 characters): the same execution retried reuses it. */
export function clientToken(executionId: string, cluster: string, name: string): string {
  return sha256Hex(`${executionId}|${cluster}|${name}`).slice(0, 32);
}

/** Tags every resource Lessor makes for `request` carries; `extra` (user tags) never override them. */
export function lessorTags(request: ComputeRequest, configHash: string, extra: TagMap = {}): TagMap {
  return {
    ...extra,
    [TAG.tenantId]: request.tenant.id,
    [TAG.tenantName]: request.tenant.name,
    [TAG.generation]: String(request.generation),
    [TAG.executionId]: request.executionId,
    [TAG.configHash]: configHash,
    [TAG.managed]: 'true',
  };
}

/** Adds the endpoint tag when the URL fits ECS's tag alphabet (so `describe` can report it). */
export function withEndpointTag(tags: TagMap, endpointUrl: string | undefined): TagMap {
  return endpointUrl !== undefined && TAG_VALUE.test(endpointUrl)
    ? { ...tags, [TAG.endpointUrl]: endpointUrl }
    : tags;
}

export function toAwsTags(tags: TagMap): AwsTag[] {
  return Object.keys(tags)
    .sort()
    .map((key) => ({ key, value: tags[key] ?? '' }));
}

export function fromAwsTags(tags: readonly AwsTag[] | undefined): TagMap {
  const map: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.key !== undefined) map[tag.key] = tag.value ?? '';
  return map;
}

/** Tags in `desired` that are missing or different in `current` (what TagResource must send). */
export function changedTags(current: TagMap, desired: TagMap): TagMap {
  return Object.fromEntries(Object.entries(desired).filter(([key, value]) => current[key] !== value));
}

export function generationOf(tags: TagMap): number | null {
  const value = Number(tags[TAG.generation]);
  return Number.isSafeInteger(value) && value >= 0 && tags[TAG.generation] !== '' ? value : null;
}

export function endpointsFrom(endpointUrl: string | undefined): Endpoint[] {
  return endpointUrl === undefined ? [] : [{ name: 'default', url: endpointUrl }];
}
