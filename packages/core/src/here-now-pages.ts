import { PresenceValidationError } from './errors/validation-error.js';
import { hereNow, type HereNowChannel, type HereNowInput, type HereNowResult, type HereNowUser } from './operations/here-now.js';
import type { CallOptions, JsonValue, ResolvedConfig } from './types.js';
import { checkInput, describeValue, MAX_LIMIT } from './validate.js';

export interface HereNowPagesInput {
  /** One channel to read… */
  channel?: string;
  /** …or several; each is paged on its own (PubNub's `limit`/`offset` apply per channel, notes §3.1). */
  channels?: readonly string[];
  /**
   * Channel groups, alone or beside `channel(s)`: their member channels are paged like named ones. The first
   * page asks for the groups; later pages name the member channels that have more (notes §3.1, §8).
   */
  channelGroups?: readonly string[];
  /** Occupants per channel and page, 1–1000. Default 1000, the most PubNub returns at once. */
  pageSize?: number;
  /** Include each occupant's state. Default false. */
  includeState?: boolean;
  /** Include who is there. Default true; false gives one page of counts. */
  includeUserIds?: boolean;
}

export interface HereNowPage<S = JsonValue> {
  /** Occupants skipped per channel before this page. */
  readonly offset: number;
  /** Channels read on this page with the occupants it holds; `occupancy` is each channel's full count. */
  readonly channels: readonly HereNowChannel<S>[];
  /**
   * Whether another page follows: some channel has occupants past this page by its occupancy
   * (PubNub sends no such flag, notes §3.1).
   */
  readonly hasMore: boolean;
}

type SendHereNow<S> = (input: HereNowInput, options?: CallOptions) => Promise<HereNowResult<S>>;

function fail(field: string, rule: string, message: string): never {
  throw new PresenceValidationError(field, rule, `hereNowPages: ${message}`, { operation: 'hereNow' });
}

/** Checks the input now, so a bad one throws before any request; returns the first page's here-now input. */
function firstPage(raw: HereNowPagesInput, config: ResolvedConfig): { input: HereNowInput; pageSize: number } {
  const input = checkInput('hereNow', raw) as HereNowPagesInput;
  if (input.channel !== undefined && input.channels !== undefined) fail('channel', 'exclusive', 'give channel or channels, not both.');
  if (input.channel === undefined && input.channels === undefined && input.channelGroups === undefined) {
    fail('channels', 'required', 'give channel, channels or channelGroups: paging reads named channels (global here-now is not paged, notes §3.1).');
  }
  if (input.channel !== undefined && typeof input.channel !== 'string') fail('channel', 'type', `channel must be a channel name; got ${describeValue(input.channel)}.`);
  // here-now's limit/offset would be quietly replaced by the walk: say what to use instead.
  for (const field of ['limit', 'offset'] as const) {
    if (field in input) fail(field, 'unsupported', `${field} is not an option here: the pages walk limit/offset themselves; give pageSize (1–${MAX_LIMIT}, default ${MAX_LIMIT}) for the occupants per page.`);
  }
  const pageSize = input.pageSize ?? MAX_LIMIT;
  if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_LIMIT) {
    fail('pageSize', 'range', `pageSize must be a whole number from 1 to ${MAX_LIMIT}; got ${describeValue(pageSize)}.`);
  }
  const channels = input.channel !== undefined ? [input.channel] : (input.channels ?? []);
  const page: HereNowInput = {
    channels,
    ...(input.channelGroups === undefined ? {} : { channelGroups: input.channelGroups }),
    limit: pageSize,
    ...(input.includeState === undefined ? {} : { includeState: input.includeState }),
    ...(input.includeUserIds === undefined ? {} : { includeUserIds: input.includeUserIds }),
  };
  // here-now's own rules: names, flags, URL size.
  const params = hereNow.prepare(page, config);
  if (params.channels.length === 0 && params.channelGroups.length === 0) fail('channels', 'required', 'give at least one channel or channel group.');
  return { input: { ...page, channels: params.channels, channelGroups: params.channelGroups }, pageSize };
}

/**
 * Walks here-now with `limit`/`offset` until every occupant of every channel is read: one page per
 * request, later pages asking only for the channels that have more. Each page is an ordinary
 * here-now call (validation, retries, caches; `{ fresh: true }` to go upstream).
 * Under churn, offsets may shift between pages: a user may show on two pages or on none.
 */
export function hereNowPages<S>(send: SendHereNow<S>, config: ResolvedConfig, raw: HereNowPagesInput, options?: CallOptions): AsyncIterable<HereNowPage<S>> {
  const { input, pageSize } = firstPage(raw, config);
  return {
    async *[Symbol.asyncIterator]() {
      let { channels, channelGroups } = input as { channels: readonly string[]; channelGroups: readonly string[] };
      for (let offset = 0; channels.length !== 0 || channelGroups.length !== 0; offset += pageSize) {
        const result = await send({ ...input, channels, channelGroups, offset }, options);
        const more = input.includeUserIds === false ? [] : result.channels.filter((c) => c.occupants.length !== 0 && offset + pageSize < c.occupancy).map((c) => c.name);
        yield { offset, channels: result.channels, hasMore: more.length !== 0 };
        // Groups are asked once: a channel with more is then named, so a group's membership changing between pages cannot shift its offsets.
        channels = more;
        channelGroups = [];
      }
    },
  };
}

/** Every page collected: one here-now result with each channel's occupants complete (a user seen twice under churn is listed once). */
export async function hereNowAll<S>(pages: AsyncIterable<HereNowPage<S>>): Promise<HereNowResult<S>> {
  const byName = new Map<string, { occupancy: number; occupants: Map<string, HereNowUser<S>> }>();
  for await (const page of pages) {
    for (const channel of page.channels) {
      let entry = byName.get(channel.name);
      if (!entry) byName.set(channel.name, (entry = { occupancy: channel.occupancy, occupants: new Map() }));
      entry.occupancy = channel.occupancy;
      for (const user of channel.occupants) if (!entry.occupants.has(user.userId)) entry.occupants.set(user.userId, user);
    }
  }
  const channels = [...byName].map(([name, { occupancy, occupants }]): HereNowChannel<S> => ({ name, occupancy, occupants: [...occupants.values()] }));
  return { totalChannels: channels.length, totalOccupancy: channels.reduce((sum, c) => sum + c.occupancy, 0), channels };
}
