// HOOK (not measured yet): `watch()` events per second against the official pubnub SDK's presence
// events. `watch()` is being built on the `watch` branch; once it is on main, measure here: one
// emulator, N users joining/leaving in a loop, `client.watch({ channels })` and a subscribed
// `pubnub` listener side by side in interleaved rounds, events/s each, one row (ours / SDK).
import { createPresence } from '@presence/core';
import { createMemoryTransport } from '@presence/core/testing';
import { skip } from '../lib/section.js';

const client = createPresence({ subscribeKey: 'sub-c-bench', userId: 'bench', transport: createMemoryTransport() });
const hasWatch = typeof (client as unknown as { watch?: unknown }).watch === 'function';
await client.close();
skip(hasWatch
  ? 'watch() exists on the built client now, but this hook has no measurement yet: write it in bench/sections/watch.ts'
  : 'watch() is not on main yet (branch `watch`): no row; bench/sections/watch.ts is the hook');
