import { createPresence, type PresenceEvent } from '@presence/core';
import { createEmulator, type Emulator } from '@presence/emulator';
import { httpTransport } from '@presence/transport-http';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseExposition, sampleMap, seriesKey } from '../test/exposition.js';
import { DEFAULT_WATCH_LAG_BUCKETS, prometheusMetrics } from './index.js';

let emulator: Emulator;
beforeEach(async () => {
  emulator = await createEmulator();
});
afterEach(() => emulator.close());

describe('prometheusMetrics: watch()', () => {
  test('events by type, their lag and reconnects by reason, from a real watch against the emulator', async () => {
    const registry = new Registry();
    const transport = httpTransport({ origin: emulator.origin });
    const watcher = createPresence({ subscribeKey: 'sub-c-watch', userId: 'SENTINELwatcher', authKey: 'SENTINELauth', transport, plugins: [prometheusMetrics({ registry })] });
    const actor = createPresence({ subscribeKey: 'sub-c-watch', userId: 'SENTINELactor', transport: httpTransport({ origin: emulator.origin }) });
    try {
      // The first long-poll (the handshake) fails with a 500: the watch reconnects.
      emulator.setFaults([{ operation: 'subscribe', response: '500', count: 1 }]);
      let connected!: () => void;
      const live = new Promise<void>((resolve) => (connected = resolve));
      const seen: PresenceEvent[] = [];
      const consumed = (async () => {
        for await (const event of watcher.watch({ channels: ['SENTINELroom'], onConnect: () => connected(), reconnect: { baseDelayMs: 5, maxDelayMs: 20 } })) {
          seen.push(event);
          if (seen.length === 3) break;
        }
      })();
      await live;
      await actor.heartbeat({ channels: ['SENTINELroom'], heartbeat: 60 });
      await actor.setPresenceState({ channels: ['SENTINELroom'], state: { SENTINELkey: 'SENTINELvalue' } });
      await actor.leave({ channels: ['SENTINELroom'] });
      await consumed;
      expect(seen.map((event) => event.type)).toEqual(['join', 'stateChange', 'leave']);

      const text = await registry.metrics();
      const actual = sampleMap(parseExposition(text));
      for (const type of ['join', 'stateChange', 'leave']) {
        expect(actual.get(seriesKey('presence_watch_events_total', { type }))).toBe(1);
        expect(actual.get(seriesKey('presence_watch_lag_seconds_count', { type }))).toBe(1);
        // Same host, same clock: under a minute late even on a busy machine.
        expect(actual.get(seriesKey('presence_watch_lag_seconds_bucket', { type, le: String(DEFAULT_WATCH_LAG_BUCKETS.at(-1)) }))).toBe(1);
      }
      expect(actual.get(seriesKey('presence_watch_reconnects_total', { reason: 'server_error' }))).toBe(1);
      // The long-polls are counted as calls of their own operation, never as `other`.
      expect(actual.get(seriesKey('presence_http_requests_total', { operation: 'subscribe', status_class: '5xx' }))).toBe(1);
      expect(actual.get(seriesKey('presence_http_requests_total', { operation: 'subscribe', status_class: '2xx' }))).toBeGreaterThanOrEqual(2);
      expect(actual.get(seriesKey('presence_operations_total', { operation: 'subscribe', outcome: 'api_error' }))).toBe(1);
      expect([...actual.keys()].some((key) => key.includes('operation="other"'))).toBe(false);
      expect(text).not.toMatch(/sentinel/i);
    } finally {
      await Promise.all([watcher.close(), actor.close()]);
    }
  });
});
