// Attribution: what core, retry() and signing cost per hereNow call, with the network taken out.
// The transport answers every call at once with a canned 20-user body; the figure printed next to
// it is JSON.parse of that body alone, which any client pays. MODE=full (default), noretry, nosign.
// Run: pnpm exec tsx bench/core-path.bench.ts   (after a build: it runs on the built packages)
import { createPresence, type PresenceResponse } from '@presence/core';
import { httpTransport, retry } from '@presence/transport-http';
const users = Array.from({ length: 20 }, (_, i) => ({ uuid: `user-${i}`, state: { n: i, name: `user ${i}` } }));
const body = JSON.stringify({ status: 200, message: 'OK', service: 'Presence', occupancy: 20, uuids: users });
const response: PresenceResponse = { status: 200, headers: { 'content-type': 'text/javascript; charset="UTF-8"' }, body };
const real = httpTransport({ origin: 'http://127.0.0.1:9' });
const mode = process.env.MODE ?? 'full';
const transport = { ...real, send: async () => response };
const client = createPresence({ subscribeKey: 'sub-c-bench', publishKey: 'pub-c-bench', ...(mode === 'nosign' ? {} : { secretKey: 'bench-secret' }), userId: 'bench', transport, plugins: mode === 'noretry' || mode === 'nosign' ? [] : [retry()] });
const input = { channels: ['lobby'], includeState: true };
const N = 100000;
const out: number[] = [];
for (let r = 0; r < 8; r++) { const s = performance.now(); for (let i = 0; i < N; i++) await client.hereNow(input); out.push((performance.now() - s) / N * 1000); }
let p = 0; const s = performance.now(); for (let i = 0; i < N; i++) p += (JSON.parse(body) as { occupancy: number }).occupancy; const parse = (performance.now() - s) / N * 1000;
void p; // read, so the parse loop is not optimised away
console.log(mode, out.slice(2).sort((a, b) => a - b).map((v) => v.toFixed(2)).join(' '), 'µs/call; JSON.parse alone', parse.toFixed(2));
