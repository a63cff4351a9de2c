import { memoryCache, type PresenceClient, type PresenceEventMap } from '@presence/core';
import { createEmulator, type Emulator, type FaultRule } from '@presence/emulator';
import { afterAll, describe, expect, it } from 'vitest';
import { Churn } from '../test/churn.js';
import { byChannel, client, sleep } from '../test/harness.js';
import { roster } from './index.js';

// Exactness under churn: 1,000 users over 50 channels (5 crowded past announceMax, so they run in
// interval mode with small delta lists that often become `here_now_refresh`), random joins,
// leaves, timeouts and state changes, injected subscribe faults, and the emulator's 3 s here-now
// cache. Time on the emulator's side is a clock the test moves forward (timeouts, intervals);
// it never runs slower than real time, so the roster's real-time replay window stays sound.
const CHECKPOINTS = 24;
let emulator: Emulator;
const clients: PresenceClient[] = [];
let offset = 0;

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await emulator?.close();
});

describe('roster exactness under churn', () => {
  it(`equals the emulator's here-now (occupants and state) at every one of ${CHECKPOINTS} checkpoints`, async () => {
    emulator = await createEmulator({
      now: () => Date.now() + offset,
      sweepIntervalMs: 0,
      hereNowCacheMs: 3000,
      announceMax: 20,
      intervalSec: 1,
      intervalDeltaMaxBytes: 120,
      subscribeHoldMs: 2000,
    });
    const upstream = client(emulator.origin, [], 'churn-driver');
    clients.push(upstream);
    const churn = new Churn(upstream, { users: 1000, channels: 50, crowded: 5, seed: 14 });
    await churn.populate();

    const live = roster({ channels: churn.channels, upstreamCacheMs: 3000 });
    const presence = client(emulator.origin, [live, memoryCache({ ttlMs: 60_000 })]);
    clients.push(presence);
    const seeds: PresenceEventMap['rosterSeed'][] = [];
    presence.events.on('rosterSeed', (s) => seeds.push(s));
    const answers: string[] = [];
    presence.events.on('rosterAnswer', (a) => answers.push(a.result));
    await live.ready;

    const faults: FaultRule[][] = [[{ operation: 'subscribe', count: 1, response: '503' }], [{ operation: 'subscribe', count: 1, response: 'reset' }], [{ operation: 'subscribe', count: 2, response: '500' }]];
    const results: Array<{ checkpoint: number; equal: boolean; convergeMs: number }> = [];
    let intervalChannels = 0;
    for (let checkpoint = 1; checkpoint <= CHECKPOINTS; checkpoint++) {
      if (checkpoint % 4 === 0) emulator.setFaults(faults[(checkpoint / 4) % faults.length]!);
      await churn.step(120);
      // The churn pauses: move the emulator's clock past the 1 s heartbeats, the interval period and its here-now cache.
      offset += 3500;
      emulator.tick();
      churn.forgetDoomed();
      const truth = byChannel(await upstream.hereNow({ channels: churn.channels, includeState: true }));
      intervalChannels = Math.max(intervalChannels, Object.values(truth).filter((o) => Object.keys(o).length > 20).length);
      // Events take a moment to arrive, and a fault costs a reconnect and a re-seed (which waits out the 3 s cache).
      const started = performance.now();
      let equal = false;
      while (!equal && performance.now() - started < 20_000) {
        const before = answers.length;
        const mine = await presence.hereNow({ channels: churn.channels, includeState: true });
        equal = answers[before] === 'hit' && JSON.stringify(byChannel(mine)) === JSON.stringify(truth);
        if (!equal) await sleep(25);
      }
      const convergeMs = performance.now() - started;
      results.push({ checkpoint, equal, convergeMs });
      if (!equal) {
        // Show only the channels that differ, and who differs in them.
        const differing: Record<string, unknown> = {};
        for (const channel of churn.channels) {
          const held = Object.fromEntries((live.get(channel)?.occupants ?? []).map((o) => [o.userId, o.state ?? null]));
          const real = truth[channel] ?? {};
          const users = new Set([...Object.keys(held), ...Object.keys(real)]);
          const wrong = [...users].filter((u) => JSON.stringify(held[u]) !== JSON.stringify(real[u])).map((u) => ({ u, roster: held[u], emulator: real[u] }));
          if (wrong.length) differing[channel] = wrong;
        }
        expect({ checkpoint, differing, lastAnswer: answers.at(-1) }).toEqual({ checkpoint, differing: {}, lastAnswer: 'hit' });
      }
    }
    const converge = results.map((r) => Math.round(r.convergeMs)).sort((a, b) => a - b);
    console.log(
      `[roster churn] ${results.filter((r) => r.equal).length}/${CHECKPOINTS} checkpoints exact; ` +
        `changes: ${JSON.stringify(churn.counts)}; channels in interval mode: ${intervalChannels}; ` +
        `seeds: ${JSON.stringify(countBy(seeds.map((s) => `${s.reason}:${s.outcome}`)))}; ` +
        `time to converge after a pause (ms): median ${converge[Math.floor(converge.length / 2)]}, max ${converge.at(-1)}; ` +
        `subscribe faults injected: ${emulator.stats().faultsInjected}`,
    );
    expect(results.every((r) => r.equal)).toBe(true);
    expect(intervalChannels).toBeGreaterThan(0);
    expect(seeds.some((s) => s.reason === 'refresh')).toBe(true);
    expect(seeds.some((s) => s.reason === 'reconnect')).toBe(true);
  }, 300_000);
});

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
