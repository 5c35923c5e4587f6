/** Kubernetes-style conditions: `lastTransitionTime` moves only when `status` flips. */
import type { Condition, ConditionStatus, ConditionType } from './tenant.js';

export interface ConditionUpdate {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message?: string;
}

export function setCondition(
  conditions: readonly Condition[],
  update: ConditionUpdate,
  generation: number,
  now: string,
): readonly Condition[] {
  const existing = conditions.find((c) => c.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message ?? '',
    lastTransitionTime: existing && existing.status === update.status ? existing.lastTransitionTime : now,
    observedGeneration: generation,
  };
  const others = conditions.filter((c) => c.type !== update.type);
  return [...others, next].sort((a, b) => a.type.localeCompare(b.type));
}

export function getCondition(conditions: readonly Condition[], type: ConditionType): Condition | undefined {
  return conditions.find((c) => c.type === type);
}
