/**
 * A prom-client `Histogram` whose `observe` finds its series by the label values, through one Map
 * per label name, instead of building the series' hash key (a string of every name and value) on
 * each observation. The series themselves stay where prom-client keeps them (`hashMap`), so
 * `/metrics` writes exactly what a plain `Histogram` writes for the same observations; a series
 * not seen before, and any use this path does not cover (exemplars), goes through prom-client's
 * own `observe`. Used for the histograms observed on every request (the request duration, the
 * statement duration).
 */
import { Histogram, type HistogramConfiguration } from 'prom-client';

/** A series as prom-client keeps it in `hashMap` (lib/histogram.js `createBaseValues`). */
interface SeriesValues {
  sum: number;
  count: number;
  readonly bucketValues: Record<number, number>;
}

/** The prom-client internals this class reads (not in its typings). */
interface HistogramInternals {
  hashMap: Record<string, SeriesValues>;
  readonly upperBounds: readonly number[];
  readonly sortedLabelNames: readonly string[];
  readonly enableExemplars: boolean;
}

type Level = Map<unknown, Level | SeriesValues>;

/** Labels of one observation, by name. */
type LabelValues<T extends string> = Partial<Record<T, string | number>>;

export class SeriesHistogram<T extends string = string> extends Histogram<T> {
  /** Label values, in `labelNames` order, to the series; emptied whenever prom-client drops series. */
  private series: Level = new Map();
  /** The series without labels (a histogram with no label names). */
  private unlabelled: SeriesValues | undefined;

  constructor(config: HistogramConfiguration<T>) {
    super(config);
    // prom-client sets `observe` on the instance; without exemplars, this class's takes its place.
    if (!(this as unknown as HistogramInternals).enableExemplars) {
      const own = this.observeSeries.bind(this);
      this.observe = own as Histogram<T>['observe'];
    }
  }

  private observeSeries(labels: LabelValues<T> | number, value?: number): void {
    if (typeof labels !== 'object' || typeof value !== 'number') {
      // prom-client's other argument forms (`observe(value)`), and its errors.
      this.observePlain(labels, value);
      return;
    }
    const found = this.find(labels);
    if (found === undefined || !Number.isFinite(value)) {
      this.observePlain(labels, value);
      if (found === undefined) this.remember(labels);
      return;
    }
    const { upperBounds } = this as unknown as HistogramInternals;
    found.sum += value;
    found.count += 1;
    for (let i = 0; i < upperBounds.length; i++) {
      const bound = upperBounds[i]!;
      if (value <= bound) {
        found.bucketValues[bound]! += 1;
        return;
      }
    }
  }

  /** prom-client's observe without exemplars (set on the instance, so not reachable as `super`). */
  private observePlain(labels: unknown, value?: number): void {
    (
      this as unknown as { observeWithoutExemplar(labels: unknown, value?: number): void }
    ).observeWithoutExemplar(labels, value);
  }

  override reset(): void {
    super.reset();
    this.forget();
  }

  override remove(...values: [Partial<Record<T, string | number>>] | string[]): void {
    (super.remove as (...args: unknown[]) => void)(...values);
    this.forget();
  }

  override zero(labels: Partial<Record<T, string | number>>): void {
    super.zero(labels);
    this.forget();
  }

  private forget(): void {
    this.series = new Map();
    this.unlabelled = undefined;
  }

  private find(labels: LabelValues<T>): SeriesValues | undefined {
    const names = this.labelNamesOf();
    if (names.length === 0) return Object.keys(labels).length === 0 ? this.unlabelled : undefined;
    let level: Level | SeriesValues | undefined = this.series;
    for (let i = 0; i < names.length; i++) {
      level = (level as Level).get(labels[names[i] as T]);
      if (level === undefined) return undefined;
    }
    // Only a label object with no other names is found: any other goes to prom-client's checks.
    return countOwn(labels) === names.length ? (level as SeriesValues) : undefined;
  }

  /** After prom-client observed `labels` (and so validated them): keeps where their series is. */
  private remember(labels: LabelValues<T>): void {
    const internals = this as unknown as HistogramInternals;
    const names = this.labelNamesOf();
    if (countOwn(labels) !== names.length) return;
    const key = hashKeyOf(labels, internals.sortedLabelNames);
    const values = internals.hashMap[key];
    if (values === undefined) return;
    if (names.length === 0) {
      this.unlabelled = values;
      return;
    }
    let level = this.series;
    for (let i = 0; i < names.length - 1; i++) {
      const value = labels[names[i] as T];
      let next = level.get(value) as Level | undefined;
      if (next === undefined) level.set(value, (next = new Map()));
      level = next;
    }
    level.set(labels[names[names.length - 1] as T], values);
  }

  private labelNamesOf(): readonly string[] {
    return (this as unknown as { labelNames: readonly string[] }).labelNames;
  }
}

function countOwn(labels: object): number {
  let n = 0;
  for (const key in labels) if (Object.hasOwn(labels, key)) n++;
  return n;
}

/** prom-client's series key (lib/util.js `fastHashObject`), to find the series it just made. */
function hashKeyOf(labels: Partial<Record<string, string | number>>, sortedNames: readonly string[]): string {
  let hash = '';
  for (const name of sortedNames) {
    const value = labels[name];
    if (value === undefined) continue;
    hash += `${name}:${String(value)},`;
  }
  return hash;
}
