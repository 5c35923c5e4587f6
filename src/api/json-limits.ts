/**
 * Shape limits for free-form JSON taken from clients (`spec.config`, merge patches): nesting depth,
 * node count, key and string sizes, and no NUL or control characters. Pure and iterative, so a
 * hostile body (deep, wide or odd) is measured without recursion and answered with a 400, never a
 * stack overflow.
 */

export interface JsonLimits {
  /** Nesting depth of objects/arrays; the value itself counts as depth 1. */
  readonly maxDepth: number;
  readonly maxNodes: number;
  readonly maxKeyLength: number;
  readonly maxStringLength: number;
}

export const CONFIG_LIMITS: JsonLimits = {
  maxDepth: 10,
  maxNodes: 10_000,
  maxKeyLength: 256,
  maxStringLength: 65_536,
};

export interface JsonShapeProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Identifiers (keys, names, labels): no C0 control character, no DEL. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const NO_CONTROL_CHARS = /^[^\u0000-\u001f\u007f]*$/;
/** Free text (config values, annotation values): TAB, LF and CR allowed; NUL and other controls not. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const SAFE_TEXT = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;

const MAX_PROBLEMS = 20;

interface Frame {
  readonly value: unknown;
  readonly path: readonly (string | number)[];
  readonly depth: number;
}

/** Every limit the value breaks (at most 20 problems), `[]` when it is fine. */
export function jsonShapeProblems(root: unknown, limits: JsonLimits): JsonShapeProblem[] {
  const problems: JsonShapeProblem[] = [];
  const stack: Frame[] = [{ value: root, path: [], depth: 1 }];
  let nodes = 0;
  while (stack.length > 0 && problems.length < MAX_PROBLEMS) {
    const frame = stack.pop()!;
    nodes += 1;
    const problem = scalarProblem(frame.value, limits);
    if (problem !== undefined) problems.push({ path: frame.path, message: problem });
    if (frame.value === null || typeof frame.value !== 'object') continue;
    const children = childCount(frame.value);
    if (nodes + stack.length + children > limits.maxNodes) {
      problems.push({ path: [], message: `has more than ${limits.maxNodes} values` });
      break;
    }
    if (frame.depth >= limits.maxDepth && children > 0) {
      problems.push({ path: frame.path, message: `is nested deeper than ${limits.maxDepth} levels` });
      continue;
    }
    pushChildren(frame, stack, problems, limits);
  }
  return problems;
}

function scalarProblem(value: unknown, limits: JsonLimits): string | undefined {
  if (typeof value === 'string') {
    if (value.length > limits.maxStringLength) return `is longer than ${limits.maxStringLength} characters`;
    if (!SAFE_TEXT.test(value)) return 'contains a NUL or control character';
    return undefined;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return 'is not a finite number';
  const ok = value === null || ['object', 'number', 'boolean'].includes(typeof value);
  return ok ? undefined : 'is not a JSON value';
}

function childCount(value: object): number {
  return Array.isArray(value) ? value.length : Object.keys(value).length;
}

function pushChildren(frame: Frame, stack: Frame[], problems: JsonShapeProblem[], limits: JsonLimits): void {
  const depth = frame.depth + 1;
  if (Array.isArray(frame.value)) {
    frame.value.forEach((item, i) => stack.push({ value: item, path: [...frame.path, i], depth }));
    return;
  }
  for (const [key, item] of Object.entries(frame.value as Record<string, unknown>)) {
    const path = [...frame.path, key];
    if (key.length === 0 || key.length > limits.maxKeyLength) {
      problems.push({ path, message: `key must be 1-${limits.maxKeyLength} characters` });
    } else if (!NO_CONTROL_CHARS.test(key)) {
      problems.push({ path, message: 'key contains a NUL or control character' });
    }
    stack.push({ value: item, path, depth });
  }
}
