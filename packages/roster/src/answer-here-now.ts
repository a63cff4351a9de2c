import { deepFreeze, type HereNowChannel, type HereNowParams, type HereNowResult, type HereNowUser } from '@presence/core';
import type { RosterChannel } from './roster-state.js';

/** Where the answer's channels come from: a watched channel's roster, a watched group's members. */
export interface RosterView<S> {
  channel(name: string): RosterChannel<S> | undefined;
  groupChannels(group: string): readonly string[] | undefined;
}

/**
 * Builds the here-now result the REST call would have produced (core's `hereNow.parse`), from
 * memory: the single form for one channel and no group; otherwise the multi form, which lists
 * requested channels first (empty ones too: parse adds them) and the groups' occupied member
 * channels after, by name. `limit`/`offset` page each channel's occupants; occupancies stay whole
 * (notes §3.1). Returns undefined when any channel or group asked about is not fully known.
 */
export function answerHereNow<S>(view: RosterView<S>, params: HereNowParams): HereNowResult<S> | undefined {
  if (params.global) return undefined;
  if (params.channels.length === 1 && params.channelGroups.length === 0) return answerOneChannel(view, params);
  const entries = new Map<string, RosterChannel<S>>();
  for (const name of params.channels) {
    const roster = view.channel(name);
    if (!roster) return undefined;
    entries.set(name, roster);
  }
  const fromGroups: string[] = [];
  for (const group of params.channelGroups) {
    const members = view.groupChannels(group);
    if (!members) return undefined;
    for (const name of members) {
      if (entries.has(name)) continue;
      const roster = view.channel(name);
      if (!roster) return undefined;
      // The service lists a group's member channels only while someone is there.
      if (roster.occupancy === 0) continue;
      entries.set(name, roster);
      fromGroups.push(name);
    }
  }
  fromGroups.sort();
  const channels: HereNowChannel<S>[] = [];
  let totalOccupancy = 0;
  let occupied = 0;
  for (const name of [...params.channels, ...fromGroups]) {
    const roster = entries.get(name)!;
    channels.push({ name, occupancy: roster.occupancy, occupants: page(roster, params) });
    totalOccupancy += roster.occupancy;
    if (roster.occupancy > 0) occupied += 1;
  }
  const single = params.channels.length === 1 && params.channelGroups.length === 0;
  // The multi form's total_channels counts only the channels the service listed: occupied ones.
  // Frozen like a cached answer: occupants are shared with the roster and with other callers.
  return deepFreeze({ totalChannels: single ? 1 : occupied, totalOccupancy, channels });
}

// One channel's answers, by the question's flags, kept on the roster's view of the channel: a view
// is replaced whenever the channel changes, so an answer lives exactly as long as it is true.
const singles = new WeakMap<object, Map<string, HereNowResult<unknown>>>();

function answerOneChannel<S>(view: RosterView<S>, params: HereNowParams): HereNowResult<S> | undefined {
  const name = params.channels[0]!;
  const roster = view.channel(name);
  if (!roster) return undefined;
  let answers = singles.get(roster);
  if (!answers) singles.set(roster, (answers = new Map<string, HereNowResult<unknown>>()));
  const key = `${name}|${params.includeState ? 1 : 0}${params.includeUserIds ? 1 : 0}|${params.limit}|${params.offset}`;
  let answer = answers.get(key) as HereNowResult<S> | undefined;
  if (!answer) {
    answer = deepFreeze({ totalChannels: 1, totalOccupancy: roster.occupancy, channels: [{ name, occupancy: roster.occupancy, occupants: page(roster, params) }] });
    // A few flag combinations per channel at most; a flood of distinct pages starts over rather than grow.
    if (answers.size >= 64) answers.clear();
    answers.set(key, answer);
  }
  return answer;
}

function page<S>(roster: RosterChannel<S>, params: HereNowParams): readonly HereNowUser<S>[] {
  if (!params.includeUserIds || params.limit === 0) return [];
  const all = roster.occupants;
  const slice = params.offset === 0 && params.limit >= all.length ? all : all.slice(params.offset, params.offset + params.limit);
  // The roster's occupants are frozen `{ userId, state? }`: they serve a with-state answer as they are.
  return params.includeState ? slice : slice.map((occupant) => (occupant.state === undefined ? occupant : Object.freeze({ userId: occupant.userId })));
}
