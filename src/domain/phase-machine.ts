/**
 * The tenant state machine (the phase table of docs/api.md, "Tenants"). `assertTransition` is the only gate a
 * phase change passes through; the store refuses to persist a phase that did not come out of it.
 */
import { InvalidTransitionError } from './errors.js';
import type { Phase } from './tenant.js';

export const ALLOWED_TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  requested: ['provisioning', 'failed', 'deleting'],
  provisioning: ['ready', 'failed', 'deleting'],
  ready: ['updating', 'deleting'],
  updating: ['ready', 'failed', 'deleting'],
  failed: ['provisioning', 'updating', 'deleting'],
  deleting: ['archived', 'failed'],
  archived: [],
};

export function canTransition(from: Phase, to: Phase): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

export function assertTransition(from: Phase, to: Phase): void {
  if (!canTransition(from, to)) {
    throw new InvalidTransitionError(`tenant cannot move from phase '${from}' to '${to}'`, { from, to });
  }
}
