import type { AddressInfo } from 'node:net';
import { createPresence, memoryCache, type JsonValue } from '@presence/core';
import { createMemoryTransport } from '@presence/core/testing';
import { prometheusMetrics } from '@presence/metrics-prometheus';
import { Registry, type OpenMetricsContentType } from 'prom-client';
import { expect, test } from 'vitest';
import { createService } from '../src/server.js';
import { staticLiveEvents } from './support/static-live.js';

test('/metrics answers in OpenMetrics, with its content type, when the registry is an OpenMetrics one', async () => {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const transport = createMemoryTransport({ respond: () => ({ body: { status: 200, message: 'OK', service: 'Presence', occupancy: 1, uuids: ['ada'] } }) });
  const presence = createPresence<JsonValue>({ subscribeKey: 'sub-c-om', userId: 'service', transport, plugins: [memoryCache(), prometheusMetrics({ registry })] });
  const server = createService({ presence, registry, rooms: [], live: staticLiveEvents() });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    expect((await fetch(`${base}/rooms/lobby/presence`)).status).toBe(200);
    const response = await fetch(`${base}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(response.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('# TYPE presence_operations counter\n');
    expect(text).toContain('presence_operations_total{operation="hereNow",outcome="success"} 1\n');
    expect(text).toMatch(/\n# EOF\n$/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await presence.close();
  }
});
