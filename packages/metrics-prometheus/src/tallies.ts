// Counts every call adds to, kept as plain numbers and handed to prom-client when the registry is
// read. A prom-client 15 bound child (`labels(...)`) still validates and hashes its labels on every
// inc() and observe() (prometheus/client_js#38, open since 2016): for a histogram that is most of
// what this plugin costs a request. Here a call adds to a tally; prom-client's own series receive
// the sums at scrape time, so the exposition, resets and registries stay prom-client's.
import { Counter, Histogram, type CounterConfiguration, type HistogramConfiguration } from 'prom-client';

/** A count one call adds to: a plain number, handed to its prom-client child when the registry is read. */
export class Tally {
  count = 0;
  constructor(readonly child: Counter.Internal) {}
  inc(): void {
    this.count++;
  }
}

/**
 * A prom-client Counter for the counts every call adds to (HTTP attempts, cache lookups, roster
 * answers). A call adds 1 to a Tally; the tallies are added to the bound children when the registry
 * is read (the counter's collect hook), through prom-client's public inc(). reset()
 * (registry.resetMetrics()) drops the tallies with the counts.
 */
export class TalliedCounter<L extends string> extends Counter<L> {
  // Assigned after super(), which already calls reset(): hence the `?.` there.
  readonly tallies: Tally[] = [];

  constructor(configuration: Omit<CounterConfiguration<L>, 'collect'>) {
    super({
      ...configuration,
      collect(this: Counter<L>) {
        for (const tally of (this as TalliedCounter<L>).tallies) {
          if (tally.count > 0) tally.child.inc(tally.count);
          tally.count = 0;
        }
      },
    });
  }

  /** A tally for one label combination, bound once. */
  tally(...values: string[]): Tally {
    const tally = new Tally(this.labels(...values));
    this.tallies.push(tally);
    return tally;
  }

  override reset(): void {
    for (const tally of this.tallies ?? []) tally.count = 0;
    super.reset();
  }
}

/** What a call observes into: a HistogramTally, or prom-client's own bound child where tallies cannot fold. */
export interface Observer {
  observe(value: number): void;
}

/** One label combination's observations since the last scrape: a count per bucket (not cumulative; +Inf last), their sum and count. */
export class HistogramTally implements Observer {
  count = 0;
  sum = 0;
  readonly buckets: Float64Array;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    readonly bounds: readonly number[],
  ) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  /** `value` is finite and not negative (the plugin's own seconds, never user input). */
  observe(value: number): void {
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    this.buckets[bucket]!++;
    this.sum += value;
    this.count++;
  }

  clear(): void {
    this.buckets.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * How prom-client 15 stores one histogram series (`histogram.hashMap`, keyed by a hash of the
 * labels): not in its types, so checked before use (see `foldable`). Bucket counts are per upper
 * bound and not cumulative; the +Inf bucket is `count`.
 */
interface StoredSeries {
  labels: Record<string, string | number>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

function storedSeries(histogram: Histogram<string>): StoredSeries[] | undefined {
  const hashMap = (histogram as unknown as { hashMap?: unknown }).hashMap;
  if (typeof hashMap !== 'object' || hashMap === null) return undefined;
  return Object.values(hashMap as Record<string, StoredSeries>);
}

/** Whether a series has the shape prom-client 15 gives it, for these bounds. */
function isStoredSeries(series: StoredSeries | undefined, bounds: readonly number[]): series is StoredSeries {
  if (typeof series !== 'object' || series === null) return false;
  const { labels, bucketValues, sum, count } = series;
  if (typeof labels !== 'object' || labels === null || typeof bucketValues !== 'object' || bucketValues === null) return false;
  if (typeof sum !== 'number' || typeof count !== 'number') return false;
  const keys = Object.keys(bucketValues);
  return keys.length === bounds.length && bounds.every((bound) => typeof bucketValues[bound] === 'number');
}

/** The stored series' key: its label values in label-name order. */
const seriesKey = (labelNames: readonly string[], labels: Readonly<Record<string, string | number>>): string => labelNames.map((name) => String(labels[name])).join('\u0000');

/**
 * A prom-client Histogram whose hot path adds to a HistogramTally per label combination. When the
 * registry is read (the histogram's collect hook, which prom-client runs before it reads its
 * series), each tally's buckets, sum and count are added to prom-client's stored series for those
 * labels, made with the public zero() the first time. prom-client formats the exposition (text or
 * OpenMetrics) as for any histogram, and reset() drops the tallies with the series.
 *
 * The stored series are prom-client 15's internal state. The constructor checks that their shape is
 * the one this class knows, on a private histogram; if it is not (another prom-client version),
 * tally() hands out prom-client's own bound children instead and every call pays their cost.
 */
export class TalliedHistogram<L extends string> extends Histogram<L> {
  // Assigned after super(), which already calls reset(): hence the `?.` there.
  readonly tallies: HistogramTally[] = [];
  readonly folds: boolean;
  readonly #bounds: readonly number[];
  readonly #labelNames: readonly string[];

  constructor(configuration: Omit<HistogramConfiguration<L>, 'collect' | 'enableExemplars'> & { buckets: number[]; labelNames: readonly L[] }, folds = foldable()) {
    super({
      ...configuration,
      collect(this: Histogram<L>) {
        (this as TalliedHistogram<L>).fold();
      },
    });
    this.#bounds = Object.freeze([...configuration.buckets]);
    this.#labelNames = Object.freeze([...configuration.labelNames]);
    this.folds = folds;
  }

  /** An observer for one label combination, bound once. */
  tally(...values: string[]): Observer {
    const child = this.labels(...(values as never[])); // validates the values once
    if (!this.folds) return child;
    const labels = Object.fromEntries(this.#labelNames.map((name, i) => [name, values[i]!]));
    const tally = new HistogramTally(labels, this.#bounds);
    this.tallies.push(tally);
    return tally;
  }

  /** Adds every tally to its stored series, then clears it. */
  fold(): void {
    let stored: Map<string, StoredSeries> | undefined;
    for (const tally of this.tallies) {
      if (tally.count === 0) continue;
      stored ??= new Map((storedSeries(this) ?? []).map((series) => [seriesKey(this.#labelNames, series.labels), series]));
      const key = seriesKey(this.#labelNames, tally.labels);
      let series = stored.get(key);
      if (series === undefined) {
        this.zero(tally.labels as never);
        series = storedSeries(this)?.find((candidate) => candidate.labels === tally.labels);
        if (series === undefined) continue; // cannot happen once foldable() said yes
        stored.set(key, series);
      }
      this.#bounds.forEach((bound, i) => {
        series.bucketValues[bound]! += tally.buckets[i]!;
      });
      series.sum += tally.sum;
      series.count += tally.count;
      tally.clear();
    }
  }

  override reset(): void {
    for (const tally of this.tallies ?? []) tally.clear();
    super.reset();
  }
}

let probed: boolean | undefined;

/**
 * Whether this prom-client stores histogram series as TalliedHistogram expects: a private
 * histogram (on no registry) folds a tally, and its series must then read as it would after the
 * same observations made through prom-client's observe().
 */
export function foldable(): boolean {
  if (probed !== undefined) return probed;
  try {
    const bounds = [1, 2];
    const probe = new TalliedHistogram({ name: 'presence_fold_probe', help: 'probe', labelNames: ['a'], buckets: bounds, registers: [] }, true);
    const tally = probe.tally('x');
    for (const value of [0.5, 1.5, 3]) tally.observe(value);
    probe.fold();
    const series = storedSeries(probe);
    probed =
      series?.length === 1 &&
      isStoredSeries(series[0], bounds) &&
      series[0].labels.a === 'x' &&
      series[0].bucketValues[1] === 1 &&
      series[0].bucketValues[2] === 1 &&
      series[0].sum === 5 &&
      series[0].count === 3;
  } catch {
    probed = false;
  }
  return probed;
}
