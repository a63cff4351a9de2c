import { createPresence, memoryCache, PresenceConfigurationError, type PresenceClient, type Plugin } from '@presence/core';
import { createMemoryTransport, type RecordedRequest, type ScriptedResponse } from '@presence/core/testing';
import { retry } from '@presence/transport-http';
import { Counter, register as globalRegistry, Registry, type OpenMetricsContentType } from 'prom-client';
import { afterEach, describe, expect, expectTypeOf, test } from 'vitest';
import { parseExposition, sampleMap, seriesKey, type Labels } from '../test/exposition.js';
import { DEFAULT_DURATION_BUCKETS, metricNames, prometheusMetrics } from './index.js';

const OK = { status: 200, message: 'OK', service: 'Presence' };

function answer(request: RecordedRequest): ScriptedResponse {
  switch (request.operation) {
    case 'hereNow':
      return { body: { ...OK, occupancy: 1, uuids: ['someone'] } };
    case 'whereNow':
      return { body: { ...OK, payload: { channels: ['lobby'] } } };
    default:
      return { body: OK };
  }
}

const clients: PresenceClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

function client(plugins: Plugin[], extra: { userId?: string; authKey?: string } = {}) {
  const transport = createMemoryTransport({ respond: answer });
  const presence = createPresence({ subscribeKey: 'sub-c-test', userId: extra.userId ?? 'me', authKey: extra.authKey, transport, plugins });
  clients.push(presence);
  return { presence, transport };
}

function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}

async function samples(registry: Registry): Promise<Map<string, number>> {
  return sampleMap(parseExposition(await registry.metrics()));
}

/** Every `_bucket`, `_count` (and the `_sum` left out) of one histogram series, from per-bound counts. */
function histogram(name: string, labels: Labels, bounds: readonly number[], perBucket: readonly number[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  let cumulative = 0;
  bounds.forEach((bound, i) => {
    cumulative += perBucket[i]!;
    out.push([seriesKey(`${name}_bucket`, { ...labels, le: String(bound) }), cumulative]);
  });
  const count = perBucket.reduce((a, b) => a + b, 0);
  out.push([seriesKey(`${name}_bucket`, { ...labels, le: '+Inf' }), count], [seriesKey(`${name}_count`, labels), count]);
  return out;
}

describe('prometheusMetrics: a scripted series of calls', () => {
  test('the exposition shows exactly the expected counts and buckets', async () => {
    const registry = new Registry();
    // Wide first bucket: instant calls land in it even on a loaded machine (one took over 0.5 s at a
    // load average of 25); the slow call does not.
    const buckets = [2.5, 60];
    const { presence, transport } = client([retry({ random: () => 0 }), memoryCache({ ttlMs: 60_000 }), prometheusMetrics({ registry, buckets })]);

    // 1–3: a miss, then two L1 hits.
    await presence.hereNow({ channels: ['lobby'] });
    await presence.hereNow({ channels: ['lobby'] });
    await presence.hereNow({ channels: ['lobby'] });
    // 4: an uncached read.
    await presence.whereNow({ userId: 'u1' });
    // 5–6: API errors, not retried.
    transport.enqueue({ status: 400, body: { status: 400, error: 1, message: 'No state specified.', service: 'Presence' } });
    await expect(presence.setPresenceState({ channels: ['lobby'], state: { mood: 'ok' } })).rejects.toMatchObject({ code: 'api_error' });
    transport.enqueue({ status: 403, body: { message: 'Forbidden', payload: { channels: ['lobby'] }, error: true, service: 'Access Manager', status: 403 } });
    await expect(presence.getPresenceState({ channels: ['lobby'] })).rejects.toMatchObject({ code: 'api_error' });
    // 7: a 503, one retry, then success.
    transport.enqueue({ status: 503, body: { status: 503, error: true, message: 'Service Unavailable', service: 'Presence' } });
    await presence.hereNow({ channels: ['hall'] });
    // 8: two identical concurrent calls share one request.
    await Promise.all([presence.hereNow({ channels: ['stage'] }), presence.hereNow({ channels: ['stage'] })]);
    // 9: a slow write, in the upper bucket.
    transport.enqueue({ body: OK, delayMs: 2600 });
    await presence.leave({ channels: ['lobby'] });
    // 10: refused before anything is sent.
    await expect(presence.hereNow({ channels: [''] })).rejects.toMatchObject({ code: 'validation_error' });
    // 11: no response before the deadline.
    transport.enqueue({ body: OK, delayMs: 5_000 });
    await expect(presence.heartbeat({ channels: ['lobby'] }, { timeoutMs: 40 })).rejects.toMatchObject({ code: 'timeout' });
    // 12: aborted by the caller before it starts.
    await expect(presence.hereNow({ channels: ['lobby'] }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });

    expect(transport.requests.map((r) => r.operation)).toEqual(['hereNow', 'whereNow', 'setPresenceState', 'getPresenceState', 'hereNow', 'hereNow', 'hereNow', 'leave', 'heartbeat']);

    const d = 'presence_operation_duration_seconds';
    const expected = new Map<string, number>([
      ...histogram(d, { operation: 'hereNow', outcome: 'success' }, buckets, [6, 0]),
      ...histogram(d, { operation: 'hereNow', outcome: 'validation_error' }, buckets, [1, 0]),
      ...histogram(d, { operation: 'hereNow', outcome: 'aborted' }, buckets, [1, 0]),
      ...histogram(d, { operation: 'whereNow', outcome: 'success' }, buckets, [1, 0]),
      ...histogram(d, { operation: 'getPresenceState', outcome: 'api_error' }, buckets, [1, 0]),
      ...histogram(d, { operation: 'setPresenceState', outcome: 'api_error' }, buckets, [1, 0]),
      ...histogram(d, { operation: 'heartbeat', outcome: 'timeout' }, buckets, [1, 0]),
      ...histogram(d, { operation: 'leave', outcome: 'success' }, buckets, [0, 1]),
      [seriesKey('presence_operations_total', { operation: 'hereNow', outcome: 'success' }), 6],
      [seriesKey('presence_operations_total', { operation: 'hereNow', outcome: 'validation_error' }), 1],
      [seriesKey('presence_operations_total', { operation: 'hereNow', outcome: 'aborted' }), 1],
      [seriesKey('presence_operations_total', { operation: 'whereNow', outcome: 'success' }), 1],
      [seriesKey('presence_operations_total', { operation: 'getPresenceState', outcome: 'api_error' }), 1],
      [seriesKey('presence_operations_total', { operation: 'setPresenceState', outcome: 'api_error' }), 1],
      [seriesKey('presence_operations_total', { operation: 'heartbeat', outcome: 'timeout' }), 1],
      [seriesKey('presence_operations_total', { operation: 'leave', outcome: 'success' }), 1],
      [seriesKey('presence_http_requests_total', { operation: 'hereNow', status_class: '2xx' }), 3],
      [seriesKey('presence_http_requests_total', { operation: 'hereNow', status_class: '5xx' }), 1],
      [seriesKey('presence_http_requests_total', { operation: 'whereNow', status_class: '2xx' }), 1],
      [seriesKey('presence_http_requests_total', { operation: 'getPresenceState', status_class: '4xx' }), 1],
      [seriesKey('presence_http_requests_total', { operation: 'setPresenceState', status_class: '4xx' }), 1],
      [seriesKey('presence_http_requests_total', { operation: 'heartbeat', status_class: 'none' }), 1],
      [seriesKey('presence_http_requests_total', { operation: 'leave', status_class: '2xx' }), 1],
      [seriesKey('presence_retries_total', { operation: 'hereNow', reason: 'server_error' }), 1],
      [seriesKey('presence_cache_lookups_total', { operation: 'hereNow', result: 'hit_l1' }), 2],
      [seriesKey('presence_cache_lookups_total', { operation: 'hereNow', result: 'miss' }), 3],
      [seriesKey('presence_cache_lookups_total', { operation: 'hereNow', result: 'coalesced' }), 1],
      ...(['hereNow', 'whereNow', 'getPresenceState', 'setPresenceState', 'heartbeat', 'leave'].map((operation): [string, number] => [seriesKey('presence_inflight_operations', { operation }), 0])),
      // 500 − 5 for the retry, + 1 for each later first-attempt success (the concurrent pair's one request, leave).
      [seriesKey('presence_retry_budget_tokens'), 497],
    ]);

    const actual = await samples(registry);
    const sums = new Map([...actual].filter(([key]) => key.startsWith(`${d}_sum`)));
    const rest = new Map([...actual].filter(([key]) => !key.startsWith(`${d}_sum`)));
    expect(Object.fromEntries(rest)).toEqual(Object.fromEntries(expected));

    // Sums are real durations: bounded by the buckets each series landed in.
    expect(sums.size).toBe(8);
    for (const [key, seconds] of sums) {
      expect(seconds).toBeGreaterThanOrEqual(0);
      if (key.includes('"leave"')) expect(seconds).toBeGreaterThanOrEqual(2.6);
      else expect(seconds).toBeLessThanOrEqual(2.5 * 6);
    }
    expect(sums.get(seriesKey(`${d}_sum`, { operation: 'heartbeat', outcome: 'timeout' }))).toBeGreaterThanOrEqual(0.035);
  });

  test('the exposition carries HELP and TYPE for every metric, with Prometheus types', async () => {
    const registry = new Registry();
    prometheusMetrics({ registry });
    const text = await registry.metrics();
    const types = Object.fromEntries([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [name, type]));
    expect(types).toEqual({
      presence_operation_duration_seconds: 'histogram',
      presence_operations_total: 'counter',
      presence_http_requests_total: 'counter',
      presence_retries_total: 'counter',
      presence_cache_lookups_total: 'counter',
      presence_cache_errors_total: 'counter',
      presence_cache_circuit_open: 'gauge',
      presence_inflight_operations: 'gauge',
      presence_retry_budget_tokens: 'gauge',
      presence_states_dropped_total: 'counter',
      presence_watch_events_total: 'counter',
      presence_watch_reconnects_total: 'counter',
      presence_watch_lag_seconds: 'histogram',
      presence_roster_answers_total: 'counter',
      presence_roster_staleness_seconds: 'gauge',
      presence_roster_seeds_total: 'counter',
      presence_roster_leader_changes_total: 'counter',
      presence_roster_leader: 'gauge',
    });
    expect(Object.keys(types)).toEqual(metricNames('presence_'));
    for (const name of Object.keys(types)) expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
  });

  test('the default bucket bounds appear as le labels', async () => {
    const registry = new Registry();
    const { presence } = client([prometheusMetrics({ registry })]);
    await presence.whereNow({ userId: 'u1' });
    const les = parseExposition(await registry.metrics())
      .filter((s) => s.name === 'presence_operation_duration_seconds_bucket')
      .map((s) => s.labels.le);
    expect(les).toEqual([...DEFAULT_DURATION_BUCKETS.map(String), '+Inf']);
  });
});

describe('prometheusMetrics: events from other plugins', () => {
  test('cache results (from callEnd), store errors, corrupt entries, circuits and dropped states are counted by store and operation', async () => {
    const registry = new Registry();
    const { presence } = client([prometheusMetrics({ registry })]);
    const { events } = presence;
    events.emit('cacheError', { store: 'redis', reason: 'connection refused to redis://:hunter2@10.0.0.1' });
    events.emit('cacheError', { store: 'redis', reason: 'timeout' });
    events.emit('cacheCorrupt', { store: 'redis' });
    events.emit('circuit', { store: 'redis', open: true });
    events.emit('circuit', { store: 'memory', open: true });
    events.emit('circuit', { store: 'memory', open: false });
    events.emit('callEnd', { operation: 'hereNow', callId: 1, outcome: 'success', durationMs: 0.1, cache: 'hit_l2' });
    events.emit('callEnd', { operation: 'hereNow', callId: 2, outcome: 'success', durationMs: 0.1, cache: 'stale' });
    const error = new PresenceConfigurationError('x', 'stand-in');
    events.emit('stateDropped', { operation: 'hereNow', channel: 'secret-room', userId: 'secret-user', error: error as never });
    const actual = await samples(registry);
    expect(actual.get(seriesKey('presence_cache_errors_total', { store: 'redis', kind: 'error' }))).toBe(2);
    expect(actual.get(seriesKey('presence_cache_errors_total', { store: 'redis', kind: 'corrupt' }))).toBe(1);
    expect(actual.get(seriesKey('presence_cache_circuit_open', { store: 'redis' }))).toBe(1);
    expect(actual.get(seriesKey('presence_cache_circuit_open', { store: 'memory' }))).toBe(0);
    expect(actual.get(seriesKey('presence_cache_lookups_total', { operation: 'hereNow', result: 'hit_l2' }))).toBe(1);
    expect(actual.get(seriesKey('presence_cache_lookups_total', { operation: 'hereNow', result: 'stale' }))).toBe(1);
    expect(actual.get(seriesKey('presence_states_dropped_total', { operation: 'hereNow' }))).toBe(1);
    const text = await registry.metrics();
    expect(text).not.toMatch(/hunter2|refused|secret-room|secret-user/);
  });

  test('roster answers by store and result, staleness, seeds by reason and outcome, leader changes and leaders', async () => {
    const registry = new Registry();
    const a = client([prometheusMetrics({ registry })]);
    const b = client([prometheusMetrics({ registry })]);
    const emit = a.presence.events.emit as (event: string, payload: unknown) => void;
    a.presence.events.emit('rosterAnswer', { operation: 'hereNow', result: 'hit', store: 'memory', stalenessMs: 250 });
    a.presence.events.emit('rosterAnswer', { operation: 'hereNow', result: 'hit', store: 'memory', stalenessMs: 500 });
    b.presence.events.emit('rosterAnswer', { operation: 'hereNow', result: 'stale', store: 'mirror', stalenessMs: 7000 });
    b.presence.events.emit('rosterAnswer', { operation: 'hereNow', result: 'not_ready', store: 'mirror', stalenessMs: Number.POSITIVE_INFINITY });
    emit('rosterAnswer', { operation: 'hereNow', result: 'because', store: 'elsewhere', stalenessMs: 1 });
    a.presence.events.emit('rosterSeed', { reason: 'initial', outcome: 'success', channels: 3, durationMs: 12 });
    a.presence.events.emit('rosterSeed', { reason: 'refresh', outcome: 'error', channels: 1, durationMs: 5 });
    b.presence.events.emit('rosterSeed', { reason: 'takeover', outcome: 'success', channels: 3, durationMs: 9 });
    a.presence.events.emit('rosterLeader', { role: 'mirror' });
    b.presence.events.emit('rosterLeader', { role: 'mirror' });
    b.presence.events.emit('rosterLeader', { role: 'leader' });
    const actual = await samples(registry);
    expect(actual.get(seriesKey('presence_roster_answers_total', { store: 'memory', result: 'hit' }))).toBe(2);
    expect(actual.get(seriesKey('presence_roster_answers_total', { store: 'mirror', result: 'stale' }))).toBe(1);
    expect(actual.get(seriesKey('presence_roster_answers_total', { store: 'mirror', result: 'not_ready' }))).toBe(1);
    expect(actual.get(seriesKey('presence_roster_answers_total', { store: 'other', result: 'other' }))).toBe(1);
    // The largest over the clients, from each one's last answer with a finite staleness.
    expect(actual.get(seriesKey('presence_roster_staleness_seconds'))).toBe(7);
    expect(actual.get(seriesKey('presence_roster_seeds_total', { reason: 'initial', outcome: 'success' }))).toBe(1);
    expect(actual.get(seriesKey('presence_roster_seeds_total', { reason: 'refresh', outcome: 'error' }))).toBe(1);
    expect(actual.get(seriesKey('presence_roster_seeds_total', { reason: 'takeover', outcome: 'success' }))).toBe(1);
    expect(actual.get(seriesKey('presence_roster_leader_changes_total', { role: 'mirror' }))).toBe(2);
    expect(actual.get(seriesKey('presence_roster_leader_changes_total', { role: 'leader' }))).toBe(1);
    expect(actual.get(seriesKey('presence_roster_leader'))).toBe(1);
    // A closed client leaves the gauges: no leader left here.
    await b.presence.close();
    const after = await samples(registry);
    expect(after.get(seriesKey('presence_roster_leader'))).toBe(0);
    expect(after.get(seriesKey('presence_roster_staleness_seconds'))).toBe(0.001); // a's last answer
  });

  test('without a roster, its gauges are absent', async () => {
    const registry = new Registry();
    client([prometheusMetrics({ registry })]);
    const actual = await samples(registry);
    expect(actual.has(seriesKey('presence_roster_leader'))).toBe(false);
    expect(actual.has(seriesKey('presence_roster_staleness_seconds'))).toBe(false);
  });

  test('values outside the known sets count as "other", and store names are capped', async () => {
    const registry = new Registry();
    const { presence } = client([prometheusMetrics({ registry })]);
    const emit = presence.events.emit as (event: string, payload: unknown) => void;
    emit('callStart', { operation: 'toString', callId: 1 });
    emit('callEnd', { operation: 'toString', callId: 1, outcome: '__proto__', durationMs: Number.NaN });
    emit('attempt', { operation: 'custom', callId: 1, attempt: 1, status: 999, durationMs: 1 });
    emit('retry', { operation: 'hereNow', callId: 1, attempt: 2, reason: 'felt like it', delayMs: 0 });
    emit('callEnd', { operation: 'hereNow', callId: 2, outcome: 'success', durationMs: 1, cache: 'maybe' });
    for (let i = 0; i < 20; i++) emit('cacheError', { store: `store${i}`, reason: 'x' });
    emit('cacheError', { store: 'channel "lobby" of user bob', reason: 'x' });
    emit('watchEvent', { type: 'hello', lagMs: -250 });
    emit('watchEvent', { type: 'join', lagMs: Number.NaN });
    emit('watchReconnect', { reason: 'cosmic rays', attempt: 1, delayMs: 10 });
    const actual = await samples(registry);
    expect(actual.get(seriesKey('presence_watch_events_total', { type: 'other' }))).toBe(1);
    expect(actual.get(seriesKey('presence_watch_events_total', { type: 'join' }))).toBe(1);
    // A negative lag (clock skew) counts as 0; a lag that is not a number is not observed.
    expect(actual.get(seriesKey('presence_watch_lag_seconds_bucket', { type: 'other', le: '0.01' }))).toBe(1);
    expect(actual.get(seriesKey('presence_watch_lag_seconds_sum', { type: 'other' }))).toBe(0);
    expect(actual.has(seriesKey('presence_watch_lag_seconds_count', { type: 'join' }))).toBe(false);
    expect(actual.get(seriesKey('presence_watch_reconnects_total', { reason: 'other' }))).toBe(1);
    expect(actual.get(seriesKey('presence_operations_total', { operation: 'other', outcome: 'other' }))).toBe(1);
    expect(actual.get(seriesKey('presence_operation_duration_seconds_bucket', { operation: 'other', outcome: 'other', le: '0.0005' }))).toBe(1);
    expect(actual.get(seriesKey('presence_inflight_operations', { operation: 'other' }))).toBe(0);
    expect(actual.get(seriesKey('presence_http_requests_total', { operation: 'other', status_class: 'none' }))).toBe(1);
    expect(actual.get(seriesKey('presence_retries_total', { operation: 'hereNow', reason: 'other' }))).toBe(1);
    expect(actual.get(seriesKey('presence_cache_lookups_total', { operation: 'hereNow', result: 'other' }))).toBe(1);
    const stores = [...actual.keys()].filter((key) => key.startsWith('presence_cache_errors_total'));
    expect(stores).toHaveLength(9);
    expect(actual.get(seriesKey('presence_cache_errors_total', { store: 'other', kind: 'error' }))).toBe(13);
  });
});

describe('prometheusMetrics: cardinality and secrets', () => {
  test('10,000 distinct channels add no series after the first calls', async () => {
    const registry = new Registry();
    const { presence } = client([memoryCache(), prometheusMetrics({ registry })]);
    const seriesCount = async (): Promise<number> => (await registry.getMetricsAsJSON()).reduce((n, metric) => n + metric.values.length, 0);
    for (let i = 0; i < 10; i++) await presence.hereNow({ channels: [`room-${i}`] });
    await presence.hereNow({ channels: ['room-0'] });
    const early = await seriesCount();
    const earlyLines = (await registry.metrics()).split('\n').length;
    for (let i = 10; i < 10_000; i++) await presence.hereNow({ channels: [`room-${i}`] });
    for (let i = 0; i < 100; i++) await presence.hereNow({ channels: [`room-${i * 7}`] });
    expect(await seriesCount()).toBe(early);
    expect((await registry.metrics()).split('\n').length).toBe(earlyLines);
    const actual = await samples(registry);
    expect(actual.get(seriesKey('presence_operations_total', { operation: 'hereNow', outcome: 'success' }))).toBe(10_101);
  });

  test('no channel, user, group or auth key ever appears in the exposition', async () => {
    const registry = new Registry();
    const { presence, transport } = client([retry({ random: () => 0 }), memoryCache(), prometheusMetrics({ registry })], {
      userId: 'SENTINELuser',
      authKey: 'SENTINELauth',
    });
    await presence.hereNow({ channels: ['SENTINELchannel'] });
    await presence.hereNow({ channels: ['SENTINELchannel'] });
    await presence.hereNow({ channelGroups: ['SENTINELgroup'] }).catch(() => {});
    await presence.whereNow({ userId: 'SENTINELother' });
    transport.enqueue({ status: 403, body: { message: 'Forbidden SENTINELchannel', payload: { channels: ['SENTINELchannel'] }, error: true, service: 'Access Manager', status: 403 } });
    await presence.setPresenceState({ channels: ['SENTINELchannel'], state: { SENTINELkey: 'SENTINELvalue' } }).catch(() => {});
    transport.enqueue({ status: 503, body: { status: 503, error: true, message: 'SENTINELchannel down', service: 'Presence' } });
    await presence.leave({ channels: ['SENTINELchannel'] });
    await expect(presence.hereNow({ channels: ['SENTINEL,bad'] })).rejects.toMatchObject({ code: 'validation_error' });
    const text = await registry.metrics();
    expect(text).toContain('presence_operations_total');
    expect(text).not.toMatch(/sentinel/i);
    expect(JSON.stringify(await registry.getMetricsAsJSON())).not.toMatch(/sentinel/i);
  });
});

describe('prometheusMetrics: registries', () => {
  test('types: plugin.registry is assignable to the registry type the caller uses (issue 16, defect 10)', () => {
    const plain: Registry = prometheusMetrics().registry;
    expectTypeOf(prometheusMetrics().registry).toEqualTypeOf<Registry>();
    const openMetrics = new Registry<OpenMetricsContentType>();
    const same: Registry<OpenMetricsContentType> = prometheusMetrics({ registry: openMetrics }).registry;
    expect(same).toBe(openMetrics);
    expect(plain).toBeInstanceOf(Registry);
  });

  test('a fresh registry by default, never the global one', async () => {
    const plugin = prometheusMetrics();
    expect(plugin.registry).toBeInstanceOf(Registry);
    expect(plugin.registry).not.toBe(globalRegistry);
    expect(plugin.registry.getSingleMetric('presence_operations_total')).toBeDefined();
    expect(globalRegistry.getSingleMetric('presence_operations_total')).toBeUndefined();
    expect(prometheusMetrics().registry).not.toBe(plugin.registry);
  });

  test('two clients on one registry share the metrics; a closed client keeps its counts but leaves the gauges', async () => {
    const registry = new Registry();
    const a = client([prometheusMetrics({ registry })]);
    const b = client([prometheusMetrics({ registry })]);
    await a.presence.whereNow({ userId: 'u1' });
    await b.presence.whereNow({ userId: 'u1' });
    await b.presence.whereNow({ userId: 'u1' });
    b.transport.enqueue({ body: OK, delayMs: 10_000 });
    const stop = new AbortController();
    const pending = b.presence.leave({ channels: ['lobby'] }, { signal: stop.signal }).catch((error: unknown) => error);
    a.presence.events.emit('retryBudget', { tokens: 10 });
    b.presence.events.emit('retryBudget', { tokens: 7 });
    let actual = await samples(registry);
    expect(actual.get(seriesKey('presence_operations_total', { operation: 'whereNow', outcome: 'success' }))).toBe(3);
    expect(actual.get(seriesKey('presence_inflight_operations', { operation: 'leave' }))).toBe(1);
    expect(actual.get(seriesKey('presence_retry_budget_tokens'))).toBe(17);

    await b.presence.close();
    stop.abort();
    await pending;
    actual = await samples(registry);
    expect(actual.get(seriesKey('presence_operations_total', { operation: 'whereNow', outcome: 'success' }))).toBe(3);
    expect(actual.get(seriesKey('presence_http_requests_total', { operation: 'whereNow', status_class: '2xx' }))).toBe(3);
    expect(actual.has(seriesKey('presence_inflight_operations', { operation: 'leave' }))).toBe(false);
    expect(actual.get(seriesKey('presence_retry_budget_tokens'))).toBe(10);
    // The closed client no longer reports; the other still does.
    b.presence.events.emit('attempt', { operation: 'whereNow', callId: 99, attempt: 1, status: 200, durationMs: 1 });
    expect(b.presence.events.has('callEnd')).toBe(false);
    await a.presence.whereNow({ userId: 'u1' });
    actual = await samples(registry);
    expect(actual.get(seriesKey('presence_http_requests_total', { operation: 'whereNow', status_class: '2xx' }))).toBe(4);
  });

  test('a prefix makes a separate set of metrics in the same registry', async () => {
    const registry = new Registry();
    const { presence } = client([prometheusMetrics({ registry }), prometheusMetrics({ registry, prefix: 'edge_presence_' })]);
    await presence.whereNow({ userId: 'u1' });
    const actual = await samples(registry);
    expect(actual.get(seriesKey('presence_operations_total', { operation: 'whereNow', outcome: 'success' }))).toBe(1);
    expect(actual.get(seriesKey('edge_presence_operations_total', { operation: 'whereNow', outcome: 'success' }))).toBe(1);
  });

  test('a metric of the same name registered by someone else is a configuration error', () => {
    const registry = new Registry();
    new Counter({ name: 'presence_retries_total', help: 'not ours', registers: [registry] });
    expect(() => prometheusMetrics({ registry })).toThrow(expect.objectContaining({ code: 'configuration_error', field: 'prefix', message: expect.stringContaining('presence_retries_total') }));
  });

  test('a registry holding only part of a set of metrics is a configuration error', () => {
    const registry = new Registry();
    prometheusMetrics({ registry });
    registry.removeSingleMetric('presence_cache_errors_total');
    expect(() => prometheusMetrics({ registry })).toThrow(expect.objectContaining({ field: 'prefix', message: expect.stringContaining('only some') }));
  });

  test('clients sharing a registry must share the buckets', () => {
    const registry = new Registry();
    prometheusMetrics({ registry, buckets: [0.1, 1] });
    expect(() => prometheusMetrics({ registry, buckets: [0.1, 2] })).toThrow(expect.objectContaining({ field: 'buckets' }));
    expect(() => prometheusMetrics({ registry, buckets: [0.1, 1] })).not.toThrow();
    expect(() => prometheusMetrics({ registry, buckets: [0.1, 1], watchLagBuckets: [1, 2] })).toThrow(expect.objectContaining({ field: 'watchLagBuckets' }));
  });

  test('registry.resetMetrics() zeroes counters and histograms but keeps inflight calls', async () => {
    const registry = new Registry();
    const { presence, transport } = client([prometheusMetrics({ registry })]);
    await presence.whereNow({ userId: 'u1' });
    transport.enqueue({ body: OK, delayMs: 10_000 });
    const stop = new AbortController();
    const pending = presence.leave({ channels: ['lobby'] }, { signal: stop.signal }).catch((error: unknown) => error);
    registry.resetMetrics();
    const actual = await samples(registry);
    expect(actual.has(seriesKey('presence_operations_total', { operation: 'whereNow', outcome: 'success' }))).toBe(false);
    expect(actual.get(seriesKey('presence_inflight_operations', { operation: 'leave' }))).toBe(1);
    stop.abort();
    await pending;
    expect((await samples(registry)).get(seriesKey('presence_inflight_operations', { operation: 'leave' }))).toBe(0);
  });

  test('registry.resetMetrics() restarts the counts of the bound children, which keep counting', async () => {
    const registry = new Registry();
    const { presence } = client([memoryCache(), prometheusMetrics({ registry })]);
    await presence.hereNow({ channels: ['lobby'] });
    await presence.hereNow({ channels: ['lobby'] });
    registry.resetMetrics();
    expect((await registry.getMetricsAsJSON()).filter((m) => String(m.type) !== 'gauge').flatMap((m) => m.values)).toEqual([]);
    await presence.hereNow({ channels: ['lobby'] });
    const actual = await samples(registry);
    expect(actual.get(seriesKey('presence_operations_total', { operation: 'hereNow', outcome: 'success' }))).toBe(1);
    expect(actual.get(seriesKey('presence_operation_duration_seconds_count', { operation: 'hereNow', outcome: 'success' }))).toBe(1);
    expect(actual.get(seriesKey('presence_cache_lookups_total', { operation: 'hereNow', result: 'hit_l1' }))).toBe(1);
    expect(actual.has(seriesKey('presence_cache_lookups_total', { operation: 'hereNow', result: 'miss' }))).toBe(false);
  });

  test('two clients with their circuits: the gauge counts the clients that have a store open', async () => {
    const registry = new Registry();
    const a = client([prometheusMetrics({ registry })]);
    const b = client([prometheusMetrics({ registry })]);
    a.presence.events.emit('circuit', { store: 'redis', open: true });
    b.presence.events.emit('circuit', { store: 'redis', open: true });
    b.presence.events.emit('circuit', { store: 'memory', open: false });
    let actual = await samples(registry);
    expect(actual.get(seriesKey('presence_cache_circuit_open', { store: 'redis' }))).toBe(2);
    expect(actual.get(seriesKey('presence_cache_circuit_open', { store: 'memory' }))).toBe(0);
    a.presence.events.emit('circuit', { store: 'redis', open: false });
    await b.presence.close();
    actual = await samples(registry);
    expect(actual.get(seriesKey('presence_cache_circuit_open', { store: 'redis' }))).toBe(0);
    expect(actual.has(seriesKey('presence_cache_circuit_open', { store: 'memory' }))).toBe(false);
  });

  test("the registry's default labels go on every presence series", async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ replica: 'a' });
    const { presence } = client([prometheusMetrics({ registry })]);
    await presence.whereNow({ userId: 'u1' });
    const all = parseExposition(await registry.metrics());
    expect(all.length).toBeGreaterThan(0);
    for (const sample of all) expect(sample.labels.replica, sample.name).toBe('a');
  });

  test('plugin.registry is typed as the registry passed, so it is assignable to prom-client\'s Registry', () => {
    const plain: Registry = prometheusMetrics().registry;
    const openMetrics: Registry<OpenMetricsContentType> = prometheusMetrics({ registry: openMetricsRegistry() }).registry;
    // @ts-expect-error: a Prometheus-format registry is not an OpenMetrics one.
    const wrong: Registry<OpenMetricsContentType> = prometheusMetrics().registry;
    expectTypeOf(prometheusMetrics().registry).toEqualTypeOf<Registry>();
    expect([plain.contentType, openMetrics.contentType, wrong.contentType]).toEqual([Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE, Registry.PROMETHEUS_CONTENT_TYPE]);
  });
});

describe('prometheusMetrics: OpenMetrics exposition', () => {
  test('an OpenMetrics registry serves every metric in OpenMetrics text, with its content type', async () => {
    const registry = openMetricsRegistry();
    const { presence } = client([retry({ random: () => 0 }), memoryCache(), prometheusMetrics({ registry })]);
    await presence.hereNow({ channels: ['lobby'] });
    await presence.hereNow({ channels: ['lobby'] });
    presence.events.emit('cacheError', { store: 'redis', reason: 'down' });
    presence.events.emit('circuit', { store: 'redis', open: true });
    presence.events.emit('retryBudget', { tokens: 9 });
    expect(registry.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const text = await registry.metrics();
    // Counters are named without `_total` in the metadata and carry it on their samples.
    const types = Object.fromEntries([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [name, type]));
    expect(types).toEqual(
      Object.fromEntries(
        metricNames('presence_').map((name) => [name.replace(/_total$/, ''), name.endsWith('_total') ? 'counter' : /_(duration|lag)_seconds$/.test(name) ? 'histogram' : 'gauge']),
      ),
    );
    const actual = sampleMap(parseExposition(text.replace(/# EOF\n$/, '')));
    expect(actual.get(seriesKey('presence_operations_total', { operation: 'hereNow', outcome: 'success' }))).toBe(2);
    expect(actual.get(seriesKey('presence_operation_duration_seconds_bucket', { operation: 'hereNow', outcome: 'success', le: '+Inf' }))).toBe(2);
    expect(actual.get(seriesKey('presence_cache_lookups_total', { operation: 'hereNow', result: 'hit_l1' }))).toBe(1);
    expect(actual.get(seriesKey('presence_cache_errors_total', { store: 'redis', kind: 'error' }))).toBe(1);
    expect(actual.get(seriesKey('presence_cache_circuit_open', { store: 'redis' }))).toBe(1);
    expect(actual.get(seriesKey('presence_retry_budget_tokens'))).toBe(9);
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    expect(text).not.toContain('_total_total');
  });

  test('a second client joins the metrics of an OpenMetrics registry after a scrape', async () => {
    const registry = openMetricsRegistry();
    const a = client([prometheusMetrics({ registry })]);
    await a.presence.whereNow({ userId: 'u1' });
    await registry.metrics(); // prom-client renames registered counters in place when it renders OpenMetrics
    const b = client([prometheusMetrics({ registry })]);
    await b.presence.whereNow({ userId: 'u1' });
    const text = await registry.metrics();
    expect(text).toContain('presence_operations_total{operation="whereNow",outcome="success"} 2');
    expect(text).not.toContain('_total_total');
  });
});

describe('prometheusMetrics: options', () => {
  const bad: Array<[string, unknown, string]> = [
    ['options', null, 'options'],
    ['options', 'presence_', 'options'],
    ['an unknown option', { regsitry: new Registry() }, 'regsitry'],
    ['a registry that is not one', { registry: {} }, 'registry'],
    ['a prefix with a dash', { prefix: 'presence-' }, 'prefix'],
    ['a prefix with a colon', { prefix: 'presence:' }, 'prefix'],
    ['a prefix starting with a digit', { prefix: '1presence_' }, 'prefix'],
    ['a prefix that is not a string', { prefix: 7 }, 'prefix'],
    ['buckets not an array', { buckets: 0.1 }, 'buckets'],
    ['no buckets', { buckets: [] }, 'buckets'],
    ['too many buckets', { buckets: Array.from({ length: 41 }, (_, i) => i + 1) }, 'buckets'],
    ['buckets not increasing', { buckets: [0.1, 0.05, 1] }, 'buckets'],
    ['a repeated bucket', { buckets: [0.1, 0.1] }, 'buckets'],
    ['a zero bucket', { buckets: [0, 1] }, 'buckets'],
    ['an infinite bucket', { buckets: [1, Infinity] }, 'buckets'],
    ['a bucket that is not a number', { buckets: ['0.1'] }, 'buckets'],
    ['a misspelt option', { bucket: [1] }, 'bucket'],
    ['watch lag buckets not increasing', { watchLagBuckets: [1, 0.5] }, 'watchLagBuckets'],
    ['watch lag buckets not an array', { watchLagBuckets: 'fast' }, 'watchLagBuckets'],
  ];
  test.each(bad)('rejects %s, naming the field', (_, options, field) => {
    let thrown: unknown;
    try {
      prometheusMetrics(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PresenceConfigurationError);
    expect(thrown).toMatchObject({ field, message: expect.stringMatching(/^prometheusMetrics: /) });
  });

  test('accepts an empty prefix and custom buckets', async () => {
    const registry = new Registry();
    const plugin = prometheusMetrics({ registry, prefix: '', buckets: [0.001, 1] });
    expect(plugin).toMatchObject({ name: 'prometheusMetrics', registry, prefix: '' });
    expect(registry.getSingleMetric('operations_total')).toBeDefined();
  });
});
