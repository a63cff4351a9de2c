// HOOK (not measured yet): here-now answered from a live roster against the same answer from the
// origin (and the official SDK). `@presence/roster` reached main as this benchmark was finished;
// measure here: a client with roster() fed by the emulator, its here-now answers/s against the
// client's origin-path here-now, side by side in interleaved rounds.
import { skip } from '../lib/section.js';

const roster = await import('@presence/roster').catch(() => undefined);
skip(roster
  ? 'roster answers: @presence/roster is on main, but this hook has no measurement yet (bench/sections/roster.ts)'
  : '@presence/roster is not on main yet (branch `roster`): no row; bench/sections/roster.ts is the hook');
