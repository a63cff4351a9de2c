// HOOK (not measured yet): here-now answered from a live roster against the same answer from the
// origin (and the official SDK). The roster is being built on the `roster` branch; once
// `@presence/roster` is on main, measure here: a roster fed by the emulator, its here-now answers/s
// against the client's origin-path here-now, side by side in interleaved rounds.
import { skip } from '../lib/section.js';

const roster = await import('@presence/roster' as string).catch(() => undefined);
skip(roster
  ? '@presence/roster exists now, but this hook has no measurement yet: write it in bench/sections/roster.ts'
  : '@presence/roster is not on main yet (branch `roster`): no row; bench/sections/roster.ts is the hook');
