import { readFileSync } from 'node:fs';
import { createPresence, memoryCache, PresenceConfigurationError } from '@presence/core';
import { createMemoryTransport } from '@presence/core/testing';
import { retry } from '@presence/transport-http';
import { parser } from '@prometheus-io/lezer-promql';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { parseExposition } from '../test/exposition.js';
import { metricNames, prometheusMetrics } from './index.js';

const dashboard = JSON.parse(readFileSync(new URL('../dashboards/presence.json', import.meta.url), 'utf8')) as {
  schemaVersion: number;
  uid: string;
  title: string;
  templating: { list: Array<{ name: string; type: string; query: unknown; datasource?: unknown }> };
  panels: Array<{ id: number; type: string; title: string; datasource?: unknown; gridPos: { x: number; y: number; w: number; h: number }; targets?: Array<{ refId: string; expr: string; datasource?: unknown }> }>;
};

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
const exprs = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
// `label_values(<selector>, label)` in the template variables: the selector is PromQL too.
const variableSelectors = dashboard.templating.list
  .filter((variable) => variable.type === 'query')
  .map((variable) => {
    const query = (variable.query as { query: string }).query;
    const match = /^label_values\((.*),\s*[a-zA-Z_]+\)$/.exec(query);
    if (!match) throw new Error(`variable ${variable.name}: unexpected query ${query}`);
    return { panel: `variable ${variable.name}`, expr: match[1]! };
  });

/** Grafana's interval variables, as Grafana would substitute them before sending the query. */
const interpolate = (expr: string): string => expr.replace(/\$__(rate_interval|interval|range)/g, '5m');

interface Parsed {
  metrics: string[];
  labels: string[];
  errors: string[];
}

function parsePromQL(expr: string): Parsed {
  const text = interpolate(expr);
  const parsed: Parsed = { metrics: [], labels: [], errors: [] };
  parser.parse(text).iterate({
    enter(node) {
      const slice = text.slice(node.from, node.to);
      if (node.type.isError) parsed.errors.push(`at ${node.from}: "${slice}"`);
      if (node.type.name === 'Identifier' && node.node.parent?.type.name === 'VectorSelector') parsed.metrics.push(slice);
      if (node.type.name === 'LabelName') parsed.labels.push(slice);
    },
  });
  return parsed;
}

/** Runs every kind of call and event, so every metric has samples. */
async function fullExposition(): Promise<string> {
  const registry = new Registry();
  const transport = createMemoryTransport();
  const presence = createPresence({
    subscribeKey: 'sub-c-dashboard',
    userId: 'me',
    transport,
    plugins: [retry({ random: () => 0 }), memoryCache(), prometheusMetrics({ registry })],
  });
  try {
    transport.enqueue({ body: { status: 200, message: 'OK', service: 'Presence', occupancy: 0 } });
    await presence.hereNow({ channels: ['lobby'] });
    await presence.hereNow({ channels: ['lobby'] });
    transport.enqueue({ status: 503, body: { status: 503, error: true, message: 'Service Unavailable', service: 'Presence' } });
    await presence.leave({ channels: ['lobby'] });
    presence.events.emit('circuit', { store: 'redis', open: true });
    presence.events.emit('cacheError', { store: 'redis', reason: 'down' });
    // What watch() reports (the watch integration test drives a real one against the emulator).
    presence.events.emit('watchEvent', { type: 'join', lagMs: 120 });
    presence.events.emit('watchReconnect', { reason: 'network_error', attempt: 1, delayMs: 250 });
    // What a roster reports (@presence/roster and redisRoster).
    presence.events.emit('rosterAnswer', { operation: 'hereNow', result: 'hit', store: 'mirror', stalenessMs: 300 });
    presence.events.emit('rosterSeed', { reason: 'initial', outcome: 'success', channels: 2, durationMs: 10 });
    presence.events.emit('rosterLeader', { role: 'leader' });
    presence.events.emit('stateDropped', { operation: 'hereNow', channel: 'lobby', userId: 'u', error: new PresenceConfigurationError('x', 'stand-in') as never });
    return await registry.metrics();
  } finally {
    await presence.close();
  }
}

describe('dashboards/presence.json', () => {
  test('is a Grafana 10+ dashboard with the datasource as a template variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.templating.list[0]).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) expect(target.datasource, panel.title).toEqual(DATASOURCE);
      expect(panel.gridPos.w, panel.title).toBeGreaterThan(0);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) expect(variable.datasource).toEqual(DATASOURCE);
  });

  test('has the panels operators look for', () => {
    const titles = panels.map((panel) => panel.title.toLowerCase());
    for (const wanted of ['request rate', 'error ratio by outcome', 'latency per operation (p50, p95, p99)', 'cache hit ratio', 'upstream calls saved', 'retries by reason', 'circuit', 'inflight', 'retry budget', 'watch events by type', 'watch lag', 'watch reconnects by reason', 'roster answers by result', 'roster hit ratio', 'roster staleness', 'roster seeds by reason', 'roster leader changes', 'roster leaders']) {
      expect(titles.some((title) => title.includes(wanted)), wanted).toBe(true);
    }
    const latency = panels.find((panel) => panel.title.startsWith('Latency per operation'))!;
    expect(latency.targets!.map((t) => /histogram_quantile\((0\.\d+),/.exec(t.expr)?.[1])).toEqual(['0.5', '0.95', '0.99']);
  });

  test('every PromQL expression parses', () => {
    expect(exprs.length).toBeGreaterThan(20);
    for (const { panel, expr } of [...exprs, ...variableSelectors]) {
      expect(parsePromQL(expr).errors, `${panel}: ${expr}`).toEqual([]);
    }
  });

  test('the parser check can fail: a broken expression reports errors', () => {
    expect(parsePromQL('sum(rate(presence_operations_total[$__rate_interval])').errors).not.toEqual([]);
    expect(parsePromQL('sum by (operation) (rate(presence_operations_total{job=~"$job"}[$__rate_interval]))')).toEqual({
      metrics: ['presence_operations_total'],
      labels: ['operation', 'job'],
      errors: [],
    });
  });

  test('every metric and label the dashboard queries exists in the plugin exposition', async () => {
    const samples = parseExposition(await fullExposition());
    const sampleNames = new Set(samples.map((sample) => sample.name));
    const labelNames = new Set(['job', 'instance', ...samples.flatMap((sample) => Object.keys(sample.labels))]);
    const used = new Set<string>();
    for (const { panel, expr } of [...exprs, ...variableSelectors]) {
      const { metrics, labels } = parsePromQL(expr);
      expect(metrics.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const metric of metrics) {
        expect(sampleNames.has(metric), `${panel}: ${metric} has no samples`).toBe(true);
        used.add(metric.replace(/_(bucket|sum|count)$/, ''));
      }
      for (const label of labels) expect(labelNames.has(label), `${panel}: label ${label}`).toBe(true);
    }
    // …and every metric the plugin exports has a panel.
    expect([...used].sort()).toEqual(metricNames('presence_').sort());
  });
});
