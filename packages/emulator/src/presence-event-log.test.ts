import { describe, expect, it } from 'vitest';
import { PresenceEventLog, type PresenceEventLogOptions } from './presence-event-log.js';
import type { PresenceChange } from './presence-store.js';
import { TimetokenClock, parseTimetoken } from './timetoken-clock.js';

function setup(options: Partial<PresenceEventLogOptions> = {}, occupancy = new Map<string, number>()) {
  let t = 1_700_000_000_000;
  const now = () => t;
  const clock = new TimetokenClock(now);
  const woken: string[] = [];
  const log = new PresenceEventLog(
    now,
    clock,
    { announceMax: 20, intervalSec: 10, intervalDeltaMaxBytes: 30_000, catchUpBufferSize: 100, catchUpMaxAgeMs: 600_000, ...options },
    (_subKey, channel) => occupancy.get(channel) ?? 0,
    (_subKey, channel) => woken.push(channel),
  );
  return { log, clock, woken, advance: (ms: number) => (t += ms), occupancy };
}

const change = (action: PresenceChange['action'], uuid: string, occupancy: number, channel = 'c'): PresenceChange => ({
  subKey: 'k',
  channel,
  action,
  uuid,
  occupancy,
});

/** The envelope a subscriber of `c-pnpres` gets. */
const envelopes = (log: PresenceEventLog, after = 0n, channel = 'c') =>
  log.eventsAfter('k', channel, after).events.map((e) => JSON.parse(`${e.head}"${channel}-pnpres"}`));

describe('TimetokenClock', () => {
  it('issues 17-digit tokens that strictly increase even when the clock stands still or goes back', () => {
    let t = 1_700_000_000_000;
    const clock = new TimetokenClock(() => t);
    const a = clock.next();
    const b = clock.next();
    t -= 5_000;
    const c = clock.next();
    expect(a.toString()).toMatch(/^\d{17}$/);
    expect(a).toBe(17_000_000_000_000_000n);
    expect(b).toBe(a + 1n);
    expect(c).toBe(b + 1n);
    t += 10_000;
    expect(clock.next()).toBe(BigInt(t) * 10_000n);
  });

  it('parses tt values: digits only', () => {
    expect(parseTimetoken('17579694347952403')).toBe(17579694347952403n);
    for (const bad of ['-1', '1.5', 'abc', '1e5', ' 1', '1'.repeat(21)]) expect(parseTimetoken(bad)).toBeUndefined();
  });
});

describe('PresenceEventLog', () => {
  it('builds per-user envelopes with integer fields and wakes the channel', () => {
    const { log, woken } = setup();
    log.record(change('join', 'u1', 1));
    log.record({ ...change('state-change', 'u1', 1), state: { a: 1 } });
    const [join, state] = envelopes(log);
    expect(join).toEqual({
      a: '5',
      f: 0,
      p: { t: '17000000000000000', r: 1 },
      k: 'k',
      c: 'c-pnpres',
      u: {
        pn_action: 'join',
        pn_channel: 'c',
        pn_ispresence: 1,
        pn_occupancy: 1,
        pn_precise_timestamp: 1_700_000_000_000,
        pn_timestamp: 1_700_000_000,
        pn_uuid: 'u1',
      },
      d: { action: 'join', uuid: 'u1', timestamp: 1_700_000_000, precise_timestamp: 1_700_000_000_000, occupancy: 1 },
      b: 'c-pnpres',
    });
    expect(state.d).toMatchObject({ action: 'state-change', data: { a: 1 } });
    expect(woken).toEqual(['c', 'c']);
  });

  it('keeps at most catchUpBufferSize events per channel and reports a cursor that predates the dropped ones', () => {
    const { log } = setup({ catchUpBufferSize: 3 });
    const tts: bigint[] = [];
    for (let i = 1; i <= 5; i += 1) tts.push(log.publish('k', 'c', { n: i }));
    const old = log.eventsAfter('k', 'c', 0n);
    expect(old.events.map((e) => e.tt)).toEqual(tts.slice(2));
    expect(old.truncated).toBe(true);
    // A cursor at the newest dropped event missed nothing.
    expect(log.eventsAfter('k', 'c', tts[1] as bigint)).toMatchObject({ truncated: false });
    expect(log.eventsAfter('k', 'c', tts[3] as bigint).events.map((e) => e.tt)).toEqual([tts[4]]);
  });

  it('drops events older than catchUpMaxAgeMs (at append and at tick)', () => {
    const { log, advance } = setup({ catchUpMaxAgeMs: 1000 });
    log.publish('k', 'c', { n: 1 });
    advance(600);
    log.publish('k', 'c', { n: 2 });
    advance(600);
    log.tick();
    expect(envelopes(log).map((e) => e.d.n)).toEqual([2]);
    advance(600);
    log.tick();
    expect(log.eventsAfter('k', 'c', 0n)).toEqual({ events: [], truncated: true });
    expect(log.buffered).toBe(0);
  });

  it('interval mode: above announceMax per-user events stop; each interval sends occupancy and the lists, then leaves the mode', () => {
    const occupancy = new Map<string, number>();
    const { log, advance } = setup({ announceMax: 2 }, occupancy);
    log.record(change('join', 'u1', 1));
    log.record(change('join', 'u2', 2));
    log.record(change('join', 'u3', 3));
    log.record(change('join', 'u4', 4));
    log.record(change('timeout', 'u1', 3));
    log.record(change('leave', 'u4', 2));
    log.record({ ...change('state-change', 'u2', 2), state: { s: 1 } });
    expect(log.inIntervalMode('k', 'c')).toBe(true);
    occupancy.set('c', 2);
    advance(9_999);
    expect(log.tick()).toBe(0);
    advance(1);
    expect(log.tick()).toBe(1);
    const actions = envelopes(log).map((e) => e.d);
    expect(actions.map((d) => [d.action, d.uuid])).toEqual([
      ['join', 'u1'],
      ['join', 'u2'],
      ['state-change', 'u2'],
      ['interval', undefined],
    ]);
    expect(actions[3]).toEqual({
      action: 'interval',
      timestamp: 1_700_000_010,
      occupancy: 2,
      join: ['u3', 'u4'],
      leave: ['u4'],
      timeout: ['u1'],
    });
    // Occupancy was back at announceMax: the channel left interval mode after that event.
    expect(log.inIntervalMode('k', 'c')).toBe(false);
    log.record(change('join', 'u5', 3));
    expect(log.inIntervalMode('k', 'c')).toBe(true);
  });

  it('each channel in interval mode gets its interval events every intervalSec from when it entered, not on a shared schedule', () => {
    const occupancy = new Map([['early', 3], ['late', 3]]);
    const { log, advance } = setup({ announceMax: 2 }, occupancy);
    for (const uuid of ['u1', 'u2', 'u3']) log.record(change('join', uuid, Number(uuid.slice(1)), 'early'));
    advance(6_000);
    for (const uuid of ['u1', 'u2', 'u3']) log.record(change('join', uuid, Number(uuid.slice(1)), 'late'));
    const intervalsOf = (channel: string) => envelopes(log, 0n, channel).filter((e) => e.d.action === 'interval').length;
    advance(4_000); // early: 10 s in interval mode; late: 4 s
    expect(log.tick()).toBe(1);
    expect([intervalsOf('early'), intervalsOf('late')]).toEqual([1, 0]);
    advance(5_999); // late: 9.999 s
    expect(log.tick()).toBe(0);
    advance(1); // late: 10 s
    expect(log.tick()).toBe(1);
    expect([intervalsOf('early'), intervalsOf('late')]).toEqual([1, 1]);
    advance(4_000); // early: 20 s
    expect(log.tick()).toBe(1);
    expect([intervalsOf('early'), intervalsOf('late')]).toEqual([2, 1]);
  });

  it('interval lists larger than intervalDeltaMaxBytes become here_now_refresh: true; quiet intervals carry occupancy only', () => {
    const occupancy = new Map([['c', 30]]);
    const { log, advance } = setup({ announceMax: 1, intervalDeltaMaxBytes: 40 }, occupancy);
    for (let i = 0; i < 30; i += 1) log.record(change('join', `user-${i}`, i + 1));
    advance(10_000);
    log.tick();
    advance(10_000);
    log.tick();
    const [first, refresh, quiet] = envelopes(log).map((e) => e.d);
    expect(first).toMatchObject({ action: 'join', uuid: 'user-0', occupancy: 1 });
    expect(refresh).toEqual({ action: 'interval', timestamp: 1_700_000_010, occupancy: 30, here_now_refresh: true });
    expect(quiet).toEqual({ action: 'interval', timestamp: 1_700_000_020, occupancy: 30 });
  });
});
