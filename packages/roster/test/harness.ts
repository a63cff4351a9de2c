// Shared by the roster's integration tests: clients against the emulator over loopback, and a
// comparison of what the roster says with what the emulator's own here-now says.
import { createPresence, type HereNowResult, type JsonValue, type Plugin, type PresenceClient } from '@presence/core';
import { httpTransport } from '@presence/transport-http';

export const SUBSCRIBE_KEY = 'sub-c-roster';

export function client(origin: string, plugins: Plugin[] = [], userId = 'roster-service'): PresenceClient {
  return createPresence({ subscribeKey: SUBSCRIBE_KEY, userId, transport: httpTransport({ origin }), plugins, timeoutMs: 10_000 });
}

export type Occupants = Record<string, JsonValue | null>;

/** A here-now result as `channel → { userId → state | null }`, order left out (the service's order is its own). */
export function byChannel(result: HereNowResult<JsonValue>): Record<string, Occupants> {
  const out: Record<string, Occupants> = {};
  for (const channel of result.channels) {
    const occupants: Occupants = {};
    for (const user of [...channel.occupants].sort((a, b) => (a.userId < b.userId ? -1 : 1))) occupants[user.userId] = user.state ?? null;
    if (Object.keys(occupants).length !== channel.occupancy) occupants['<occupancy>'] = channel.occupancy;
    out[channel.name] = occupants;
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` passes or `timeoutMs` runs out; returns the elapsed ms. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 10): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}
