import { AggregatorRegistry, Histogram, openMetricsContentType, Registry, type OpenMetricsContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { foldable, TalliedCounter, TalliedHistogram } from './tallies.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];

/**
 * The same observations on a TalliedHistogram and on a plain prom-client Histogram, each in its own
 * registry. The texts are compared whole: the series are observed in the order they were bound
 * (a tallied series is created at the scrape, in binding order) and the sums are exact in binary,
 * so neither the order of series nor the last digits of a `_sum` (added per scrape, not per
 * observation) can differ here.
 */
function pair(openMetrics = false) {
  const make = (): Registry => {
    if (!openMetrics) return new Registry();
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(openMetricsContentType);
    return registry as unknown as Registry;
  };
  const tallied = { registry: make() };
  const plain = { registry: make() };
  const configuration = { name: 'd_seconds', help: 'd', labelNames: ['operation', 'outcome'] as const, buckets: BOUNDS };
  const talliedHistogram = new TalliedHistogram({ ...configuration, labelNames: ['operation', 'outcome'], registers: [tallied.registry] });
  const plainHistogram = new Histogram({ ...configuration, labelNames: ['operation', 'outcome'], registers: [plain.registry] });
  const observers = {
    tallied: { ok: talliedHistogram.tally('hereNow', 'success'), failed: talliedHistogram.tally('hereNow', 'timeout') },
    plain: { ok: plainHistogram.labels('hereNow', 'success'), failed: plainHistogram.labels('hereNow', 'timeout') },
  };
  const observe = (series: 'ok' | 'failed', values: number[]): void => {
    for (const value of values) {
      observers.tallied[series].observe(value);
      observers.plain[series].observe(value);
    }
  };
  return { tallied: { ...tallied, histogram: talliedHistogram }, plain: { ...plain, histogram: plainHistogram }, observe };
}

describe('TalliedHistogram', () => {
  it('folds with the prom-client installed here (else every call would pay for prom-client observe())', () => {
    expect(foldable()).toBe(true);
    expect(new TalliedHistogram({ name: 'x_seconds', help: 'x', labelNames: ['a'], buckets: [1], registers: [] }).folds).toBe(true);
  });

  it('exposes exactly what prom-client observe() would, across scrapes, bounds, +Inf and a reset', async () => {
    const { tallied, plain, observe } = pair();
    const same = async () => expect(await tallied.registry.metrics()).toBe(await plain.registry.metrics());
    await same(); // nothing observed: no series
    // On a bound (counted in that bucket, as `le` says), between bounds, 0, and above the last bound (+Inf only).
    observe('ok', [0.001, 0.0005, 0, 0.05, 0.1, 2, 30]);
    await same();
    // Scrapes add up: the second batch goes on top of the first.
    observe('ok', [0.01, 0.2]);
    observe('failed', [10]);
    await same();
    await same(); // a scrape with nothing new changes nothing
    expect(await tallied.registry.metrics()).toContain('d_seconds_bucket{le="0.001",operation="hereNow",outcome="success"} 3');
    expect(await tallied.registry.metrics()).toContain('d_seconds_count{operation="hereNow",outcome="success"} 9');

    // Observations not yet scraped are dropped by a reset, as prom-client's are.
    observe('ok', [0.5]);
    tallied.registry.resetMetrics();
    plain.registry.resetMetrics();
    await same();
    observe('failed', [0.002]);
    await same();
    expect(await tallied.registry.metrics()).toContain('d_seconds_count{operation="hereNow",outcome="timeout"} 1');
  });

  it('exposes the same OpenMetrics text as prom-client observe()', async () => {
    const { tallied, plain, observe } = pair(true);
    observe('ok', [0.003, 0.7, 5]);
    expect(tallied.registry.contentType).toBe(openMetricsContentType);
    expect(await tallied.registry.metrics()).toBe(await plain.registry.metrics());
  });

  it('reads the same through get() (getMetricsAsJSON) as prom-client observe()', async () => {
    const { tallied, plain, observe } = pair();
    observe('ok', [0.003, 0.7]);
    observe('failed', [2]);
    expect(await tallied.registry.getMetricsAsJSON()).toEqual(await plain.registry.getMetricsAsJSON());
  });

  it('reads the same with registry default labels, and aggregated across cluster workers (AggregatorRegistry)', async () => {
    const { tallied, plain, observe } = pair();
    tallied.registry.setDefaultLabels({ client: 'a' });
    plain.registry.setDefaultLabels({ client: 'a' });
    observe('ok', [0.003, 0.7]);
    expect(await tallied.registry.metrics()).toContain('d_seconds_count{client="a",operation="hereNow",outcome="success"} 2');
    expect(await tallied.registry.metrics()).toBe(await plain.registry.metrics());
    const workers = async (registry: Registry) => AggregatorRegistry.aggregate([await registry.getMetricsAsJSON(), await registry.getMetricsAsJSON()]).metrics();
    observe('failed', [3]);
    expect(await workers(tallied.registry)).toBe(await workers(plain.registry));
  });

  it('adds to a series prom-client already holds for the same labels, and forgets what remove() removed', async () => {
    const { tallied, plain, observe } = pair();
    // The same labels, through prom-client's own API first.
    tallied.histogram.observe({ operation: 'hereNow', outcome: 'success' }, 0.5);
    plain.histogram.observe({ operation: 'hereNow', outcome: 'success' }, 0.5);
    observe('ok', [0.25]);
    expect(await tallied.registry.metrics()).toContain('d_seconds_count{operation="hereNow",outcome="success"} 2');
    expect(await tallied.registry.metrics()).toBe(await plain.registry.metrics());
    // Observations not yet scraped go with the series, as prom-client's do; others stay.
    observe('ok', [0.5]);
    observe('failed', [0.5]);
    tallied.histogram.remove('hereNow', 'success');
    plain.histogram.remove('hereNow', 'success');
    expect(await tallied.registry.metrics()).toBe(await plain.registry.metrics());
    expect(await tallied.registry.metrics()).not.toContain('outcome="success"');
    observe('failed', [0.5]);
    tallied.histogram.remove({ operation: 'hereNow', outcome: 'timeout' });
    plain.histogram.remove({ operation: 'hereNow', outcome: 'timeout' });
    expect(await tallied.registry.metrics()).toBe(await plain.registry.metrics());
  });

  it('refuses a value that is not a finite number, as prom-client does', () => {
    const { tallied, plain } = pair();
    const message = (observe: () => void) => {
      try {
        observe();
        return undefined;
      } catch (error) {
        return error;
      }
    };
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(message(() => tallied.histogram.tally('hereNow', 'success').observe(value))).toEqual(message(() => plain.histogram.labels('hereNow', 'success').observe(value)));
    }
  });

  it('without folding, hands out prom-client bound children: the same exposition', async () => {
    const registry = new Registry();
    const histogram = new TalliedHistogram({ name: 'd_seconds', help: 'd', labelNames: ['operation'], buckets: BOUNDS, registers: [registry] }, false);
    const observer = histogram.tally('hereNow');
    expect(observer).not.toHaveProperty('buckets');
    observer.observe(0.05);
    expect(await registry.metrics()).toContain('d_seconds_bucket{le="0.1",operation="hereNow"} 1');
    expect(histogram.tallies).toHaveLength(0);
  });

  it('refuses a label value count that does not match, when the observer is bound', () => {
    const histogram = new TalliedHistogram({ name: 'd_seconds', help: 'd', labelNames: ['operation', 'outcome'], buckets: BOUNDS, registers: [] });
    expect(() => histogram.tally('hereNow')).toThrow(/label/i);
  });
});

describe('TalliedCounter', () => {
  it('hands its tallies to the bound children when read, and forgets what remove() or a reset removed', async () => {
    const registry = new Registry();
    const counter = new TalliedCounter({ name: 'attempts_total', help: 'a', labelNames: ['operation', 'status_class'], registers: [registry] });
    const ok = counter.tally('hereNow', '2xx');
    const failed = counter.tally('hereNow', '5xx');
    ok.inc();
    ok.inc();
    failed.inc();
    expect(await registry.metrics()).toContain('attempts_total{operation="hereNow",status_class="2xx"} 2');
    ok.inc();
    expect(await registry.metrics()).toContain('attempts_total{operation="hereNow",status_class="2xx"} 3');
    ok.inc();
    counter.remove('hereNow', '2xx');
    failed.inc();
    counter.remove({ operation: 'hereNow', status_class: '5xx' });
    expect(await registry.metrics()).not.toContain('attempts_total{');
    ok.inc();
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('attempts_total{');
  });
});
