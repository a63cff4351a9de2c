// Counts every call adds to, kept as plain numbers and handed to prom-client when the registry is
// read. A prom-client 15 bound child (`labels(...)`) still validates and hashes its labels on every
// inc() and observe() (prometheus/client_js#38, open since 2016); for the histogram that was most
// of what the plugin cost a request. prom-client keeps the series and writes the exposition.
import { Counter, Histogram, type CounterConfiguration, type HistogramConfiguration } from 'prom-client';

/** Whether `labels` (a labels object, or label values in label-name order) names the same series as `tally`. */
const sameSeries = (labelNames: readonly string[], labels: unknown[], tally: Readonly<Record<string, string>>): boolean => {
  const byName = typeof labels[0] === 'object' && labels[0] !== null ? (labels[0] as Record<string, unknown>) : undefined;
  return labelNames.every((name, i) => String(byName ? byName[name] : labels[i]) === tally[name]);
};

/** The labels object of one label combination: names to values, in label-name order. */
const labelsOf = (labelNames: readonly string[], values: readonly string[]): Readonly<Record<string, string>> => Object.fromEntries(labelNames.map((name, i) => [name, values[i]!]));

/** A count one call adds to: a plain number, handed to its prom-client child when the registry is read. */
export class Tally {
  count = 0;
  constructor(
    readonly child: Counter.Internal,
    readonly labels: Readonly<Record<string, string>>,
  ) {}
  inc(): void {
    this.count++;
  }

  clear(): void {
    this.count = 0;
  }
}

/** A prom-client Counter whose collect hook adds each Tally to its bound child (public inc(n)); reset() and remove() drop the tallies they concern. */
export class TalliedCounter<L extends string> extends Counter<L> {
  // Assigned after super(), which already calls reset(): hence the `?? []` there.
  readonly tallies: Tally[] = [];
  readonly #labelNames: readonly L[];

  constructor(configuration: Omit<CounterConfiguration<L>, 'collect'> & { labelNames: readonly L[] }) {
    super({
      ...configuration,
      collect(this: Counter<L>) {
        for (const tally of (this as TalliedCounter<L>).tallies) {
          if (tally.count > 0) tally.child.inc(tally.count);
          tally.clear();
        }
      },
    });
    this.#labelNames = [...configuration.labelNames];
  }

  /** A tally for one label combination, bound once. */
  tally(...values: string[]): Tally {
    const tally = new Tally(this.labels(...values), labelsOf(this.#labelNames, values));
    this.tallies.push(tally);
    return tally;
  }

  override reset(): void {
    for (const tally of this.tallies ?? []) tally.clear();
    super.reset();
  }

  override remove(...labels: [Partial<Record<L, string | number>>] | string[]): void {
    super.remove(...(labels as string[]));
    for (const tally of this.tallies) if (sameSeries(this.#labelNames, labels, tally.labels)) tally.clear();
  }
}

/** What a call observes into: a HistogramTally, or prom-client's own bound child where tallies cannot fold. */
export interface Observer {
  observe(value: number): void;
}

/** One label combination's observations since the last scrape: a count per bucket (not cumulative; +Inf last), their sum and count. */
export class HistogramTally implements Observer {
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    readonly bounds: readonly number[],
  ) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    // As prom-client's observe(): the plugin's own seconds are always finite, but a sum of NaN would stay NaN.
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]!) bucket++;
    this.buckets[bucket]!++;
    this.sum += value;
    this.count++;
  }

  clear(): void {
    this.buckets.fill(0);
    this.sum = this.count = 0;
  }
}

/** A series as prom-client 15 stores it in `histogram.hashMap` (not in its types): counts per upper bound, not cumulative; +Inf is `count`. */
interface StoredSeries {
  labels: Readonly<Record<string, string | number>>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

const storedSeries = (histogram: Histogram<string>): StoredSeries[] => Object.values((histogram as unknown as { hashMap: Record<string, StoredSeries> }).hashMap);

/**
 * A prom-client Histogram whose hot path adds to a HistogramTally per label combination. Its
 * collect hook, which prom-client runs before it reads the series, adds each tally's buckets, sum
 * and count to prom-client's stored series for those labels (made with the public zero() the
 * first time), so prom-client writes the exposition (text or OpenMetrics) as for any histogram.
 * reset() and remove() drop the tallies they concern with the series. The stored series are
 * prom-client's internal state: `foldable()` checks them once on a private histogram, and if they
 * are not as expected (another prom-client version), tally() hands out prom-client's own bound
 * children instead.
 */
export class TalliedHistogram<L extends string> extends Histogram<L> {
  // Assigned after super(), which already calls reset(): hence the `?? []` there.
  readonly tallies: HistogramTally[] = [];
  readonly #labelNames: readonly L[];
  readonly #bounds: readonly number[];

  constructor(
    configuration: Omit<HistogramConfiguration<L>, 'collect' | 'enableExemplars'> & { buckets: number[]; labelNames: readonly L[] },
    readonly folds = foldable(),
  ) {
    super({
      ...configuration,
      collect(this: Histogram<L>) {
        (this as TalliedHistogram<L>).fold();
      },
    });
    this.#labelNames = [...configuration.labelNames];
    this.#bounds = [...configuration.buckets];
  }

  /** An observer for one label combination, bound once. */
  tally(...values: string[]): Observer {
    const child = this.labels(...values); // validates the values once
    if (!this.folds) return child;
    const tally = new HistogramTally(labelsOf(this.#labelNames, values), this.#bounds);
    this.tallies.push(tally);
    return tally;
  }

  /** Adds every tally to its stored series (found by its label values: it may have been made through prom-client's own API), then clears it. */
  fold(): void {
    let stored: StoredSeries[] | undefined; // read once per scrape, and again only after zero() adds a series
    for (const tally of this.tallies) {
      if (tally.count === 0) continue;
      const find = () => (stored ??= storedSeries(this)).find((series) => sameSeries(this.#labelNames, [series.labels], tally.labels));
      let series = find();
      if (series === undefined) {
        this.zero(tally.labels as Partial<Record<L, string>>);
        stored = undefined;
        series = find()!;
      }
      tally.bounds.forEach((bound, i) => (series.bucketValues[bound]! += tally.buckets[i]!));
      series.sum += tally.sum;
      series.count += tally.count;
      tally.clear();
    }
  }

  override reset(): void {
    for (const tally of this.tallies ?? []) tally.clear();
    super.reset();
  }

  override remove(...labels: [Partial<Record<L, string | number>>] | string[]): void {
    super.remove(...(labels as string[]));
    for (const tally of this.tallies) if (sameSeries(this.#labelNames, labels, tally.labels)) tally.clear();
  }
}

let probed: boolean | undefined;

/** Whether a tally folded into this prom-client's stored series holds what the same observations made through observe() would. */
export function foldable(): boolean {
  try {
    if (probed === undefined) {
      const probe = new TalliedHistogram({ name: 'presence_fold_probe', help: 'probe', labelNames: ['a'], buckets: [1, 2], registers: [] }, true);
      const tally = probe.tally('x');
      for (const value of [0.5, 1.5, 3]) tally.observe(value);
      probe.fold();
      const series = storedSeries(probe);
      const [{ bucketValues, sum, count } = {} as Partial<StoredSeries>] = series;
      probed = series.length === 1 && JSON.stringify(bucketValues) === '{"1":1,"2":1}' && sum === 5 && count === 3;
    }
  } catch {
    probed = false;
  }
  return probed;
}
