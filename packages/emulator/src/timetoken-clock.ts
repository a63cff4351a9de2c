/**
 * PubNub timetokens: 17-digit decimal strings in units of 100 ns since the epoch (notes §4, `p.t`).
 * They exceed 2^53, so they are BigInt here and strings on the wire.
 *
 * Every token this emulator hands out (a subscribe cursor or an event's `p.t`) comes from one clock and is
 * strictly greater than the previous one, even within one millisecond or when an injected clock stands
 * still. That is what makes "every event with a timetoken greater than `tt`" exact: an event can never
 * share a token with a cursor a subscriber already holds.
 */
export class TimetokenClock {
  private last = 0n;

  constructor(private readonly now: () => number) {}

  /** A fresh token, strictly greater than every token issued before. */
  next(): bigint {
    const fromClock = BigInt(Math.floor(this.now())) * 10_000n;
    this.last = fromClock > this.last ? fromClock : this.last + 1n;
    return this.last;
  }

  /** The newest token issued so far (0n before the first). */
  get latest(): bigint {
    return this.last;
  }
}

/** Parse a `tt` query value; `undefined` when it is not a non-negative integer. */
export function parseTimetoken(raw: string): bigint | undefined {
  if (!/^\d{1,20}$/.test(raw)) return undefined;
  return BigInt(raw);
}
