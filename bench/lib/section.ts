/** What every bench section gets from the runner, and the shape of a target check. */

export interface SectionContext {
  readonly quick: boolean;
  /** Scratch directory of this run (databases, logs, profiles). */
  readonly workDir: string;
  log(message: string): void;
}

/** A table a section wants printed; the JSON keeps the raw figures beside it. */
export interface PrintableTable {
  readonly title: string;
  readonly head: readonly string[];
  readonly rows: readonly (readonly (string | number | null)[])[];
}

/** What every section returns (plus its own raw figures). */
export interface SectionOutput {
  readonly tables: readonly PrintableTable[];
  readonly targets: readonly TargetCheck[];
  /** Lines printed under the tables: unavailable parts, caveats. */
  readonly notes: readonly string[];
}

export interface TargetCheck {
  readonly name: string;
  readonly value: number | null;
  readonly target: string;
  readonly met: boolean | null;
}

export function atLeast(name: string, value: number | null | undefined, min: number, unit = ''): TargetCheck {
  const v = value ?? null;
  return { name, value: v, target: `>= ${min}${unit}`, met: v === null || Number.isNaN(v) ? null : v >= min };
}

export function atMost(name: string, value: number | null | undefined, max: number, unit = ''): TargetCheck {
  const v = value ?? null;
  return { name, value: v, target: `<= ${max}${unit}`, met: v === null || Number.isNaN(v) ? null : v <= max };
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}
