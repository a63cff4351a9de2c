// Here-now answered by roster() from memory against the same question asked of the origin, on one
// emulator in its own process (20 users with state in one channel), 32 in flight, interleaved rounds.
// Both clients are built the same way (httpTransport + retry); the roster client also has roster().
import { isDeepStrictEqual } from 'node:util';
import { createPresence, type HereNowResult } from '@presence/core';
import { roster } from '@presence/roster';
import { httpTransport, retry } from '@presence/transport-http';
import { startEmulatorProcess } from '../lib/emulator.js';
import { ROUNDS, report } from '../lib/section.js';
import { interleave, pairedRow, throughput } from '../lib/stats.js';

const USERS = 20;
const CHANNEL = 'lobby';
const IN_FLIGHT = 32;
const section = `roster answers (here-now of ${USERS} users with state, ${IN_FLIGHT} in flight)`;
const emulator = await startEmulatorProcess();
const client = (plugins: Parameters<typeof createPresence>[0]['plugins']) =>
  createPresence({ subscribeKey: 'sub-c-bench', userId: 'bench', transport: httpTransport({ origin: emulator.origin }), plugins });
const origin = client([retry()]);
for (let i = 0; i < USERS; i++) {
  await origin.heartbeat({ channels: [CHANNEL], heartbeat: 300, state: { [CHANNEL]: { n: i, name: `user ${i}` } }, userId: `user-${i}` });
}
const live = roster({ channels: [CHANNEL] });
const fromRoster = client([retry(), live]);
// Never hang: a roster that cannot seed within a minute fails the section with a reason.
await Promise.race([
  live.ready,
  new Promise((_, reject) => setTimeout(() => reject(new Error('roster() was not ready within 60 s')), 60_000).unref()),
]);

const input = { channels: [CHANNEL], includeState: true };
// The same answer either way (occupants in any order).
const sorted = (result: HereNowResult<unknown>) => result.channels.map((c) => ({ ...c, occupants: [...c.occupants].sort((a, b) => a.userId.localeCompare(b.userId)) }));
if (!isDeepStrictEqual(sorted(await fromRoster.hereNow(input)), sorted(await origin.hereNow(input)))) throw new Error('the roster answers differently from the origin');

const cpu: Record<'roster' | 'origin', number[]> = { roster: [], origin: [] };
const measure = (side: 'roster' | 'origin', requests: number, record = true) => async () => {
  const run = side === 'roster' ? () => fromRoster.hereNow(input) : () => origin.hereNow(input);
  const before = process.cpuUsage();
  const rate = await throughput(run, requests, IN_FLIGHT);
  const used = process.cpuUsage(before);
  if (record) cpu[side].push((used.user + used.system) / requests);
  return rate;
};
await measure('roster', 20_000, false)();
await measure('origin', 2_000, false)();
const results = await interleave({ roster: measure('roster', 50_000), origin: measure('origin', 3_000) }, ROUNDS);

await fromRoster.close();
await origin.close();
await emulator.close();
report([
  pairedRow({ section, name: 'client + roster() answer / the same here-now from the origin', unit: 'req/s', ours: results.roster, baseline: results.origin }),
  pairedRow({ section, name: 'client + roster() answer / the same here-now from the origin, CPU time per request', unit: 'µs CPU/req', ours: cpu.roster, baseline: cpu.origin, ratios: cpu.origin.map((value, i) => value / cpu.roster[i]!), note: 'ratio = baseline µs / roster µs' }),
]);
