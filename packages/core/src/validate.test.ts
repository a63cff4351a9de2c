import { describe, expect, test } from 'vitest';
import { createPresence, PresenceValidationError } from './index.js';
import { createMemoryTransport } from './testing.js';

// Every rule: the call is refused with a validation error naming the field and the rule, and no
// request reaches the transport.

function setup() {
  const transport = createMemoryTransport();
  const presence = createPresence({ subscribeKey: 'sub', userId: 'me', transport });
  return { presence, transport };
}

const long = 'x'.repeat(93);
const cases: Array<[string, (p: ReturnType<typeof setup>['presence']) => Promise<unknown>, string, string]> = [
  ['empty channel name', (p) => p.hereNow({ channels: [''] }), 'channels[0]', 'required'],
  ['non-string channel name', (p) => p.hereNow({ channels: [42 as unknown as string] }), 'channels[0]', 'required'],
  ['channels not an array', (p) => p.hereNow({ channels: 'lobby' as unknown as string[] }), 'channels', 'type'],
  ['channel name over 92 characters', (p) => p.hereNow({ channels: ['ok', long] }), 'channels[1]', 'max-length'],
  ['group name over 92 characters', (p) => p.hereNow({ channelGroups: [long] }), 'channelGroups[0]', 'max-length'],
  ['comma in a channel name', (p) => p.hereNow({ channels: ['a,b'] }), 'channels[0]', 'invalid-character'],
  ['colon in a channel name', (p) => p.hereNow({ channels: ['a:b'] }), 'channels[0]', 'invalid-character'],
  ['asterisk in a channel name', (p) => p.hereNow({ channels: ['a*'] }), 'channels[0]', 'invalid-character'],
  ['slash in a channel name', (p) => p.leave({ channels: ['a/b'] }), 'channels[0]', 'invalid-character'],
  ['backslash in a channel name', (p) => p.leave({ channels: ['a\\b'] }), 'channels[0]', 'invalid-character'],
  ['space in a channel name', (p) => p.heartbeat({ channels: ['a b'] }), 'channels[0]', 'invalid-character'],
  ['NUL in a channel name', (p) => p.getPresenceState({ channels: ['a\u0000'] }), 'channels[0]', 'invalid-character'],
  ['control character in a channel name', (p) => p.setPresenceState({ channels: ['a\n'], state: {} }), 'channels[0]', 'invalid-character'],
  ['dot in a group name', (p) => p.hereNow({ channelGroups: ['a.b'] }), 'channelGroups[0]', 'invalid-character'],
  ['state that is a string', (p) => p.setPresenceState({ channels: ['a'], state: 'happy' }), 'state', 'json-object'],
  ['state that is an array', (p) => p.setPresenceState({ channels: ['a'], state: [1] }), 'state', 'json-object'],
  ['state that is null', (p) => p.setPresenceState({ channels: ['a'], state: null }), 'state', 'json-object'],
  ['missing state', (p) => p.setPresenceState({ channels: ['a'] } as never), 'state', 'json-object'],
  ['state holding undefined', (p) => p.setPresenceState({ channels: ['a'], state: { a: undefined } as never }), 'state.a', 'json-value'],
  ['state holding NaN', (p) => p.setPresenceState({ channels: ['a'], state: { n: Number.NaN } }), 'state.n', 'json-value'],
  ['state holding a Date', (p) => p.setPresenceState({ channels: ['a'], state: { d: new Date() } as never }), 'state.d', 'json-value'],
  ['state holding a function', (p) => p.setPresenceState({ channels: ['a'], state: { f: () => 1 } as never }), 'state.f', 'json-value'],
  ['state over 32 KiB encoded', (p) => p.setPresenceState({ channels: ['a'], state: { big: 'é'.repeat(6000) } }), 'state', 'max-size'],
  ['URL over 32 KiB from many channels', (p) => p.hereNow({ channels: Array.from({ length: 600 }, (_, i) => `channel-with-a-long-name-${i}-${'y'.repeat(40)}`) }), 'channels', 'max-size'],
  ['heartbeat state over 32 KiB', (p) => p.heartbeat({ channels: ['a'], state: { a: { big: 'x'.repeat(33_000) } } }), 'state', 'max-size'],
  ['limit above 1000', (p) => p.hereNow({ channels: ['a'], limit: 1001 }), 'limit', 'range'],
  ['negative limit', (p) => p.hereNow({ channels: ['a'], limit: -1 }), 'limit', 'range'],
  ['fractional limit', (p) => p.hereNow({ channels: ['a'], limit: 2.5 }), 'limit', 'range'],
  ['negative offset', (p) => p.hereNow({ channels: ['a'], offset: -1 }), 'offset', 'range'],
  ['non-boolean includeState', (p) => p.hereNow({ channels: ['a'], includeState: 'yes' as never }), 'includeState', 'type'],
  ['empty userId for whereNow', (p) => p.whereNow({ userId: '' }), 'userId', 'required'],
  ['userId over 92 characters', (p) => p.getPresenceState({ channels: ['a'], userId: long }), 'userId', 'max-length'],
  ['heartbeat with no channel or group', (p) => p.heartbeat({}), 'channels', 'required'],
  ['leave with no channel or group', (p) => p.leave({ channels: [] }), 'channels', 'required'],
  ['setPresenceState with no channel or group', (p) => p.setPresenceState({ state: {} }), 'channels', 'required'],
  ['getPresenceState with no channel or group', (p) => p.getPresenceState({}), 'channels', 'required'],
  ['heartbeat seconds of 0', (p) => p.heartbeat({ channels: ['a'], heartbeat: 0 }), 'heartbeat', 'range'],
  ['heartbeat seconds above 320', (p) => p.heartbeat({ channels: ['a'], heartbeat: 321 }), 'heartbeat', 'range'],
  ['heartbeat state for a channel not asked about', (p) => p.heartbeat({ channels: ['a'], state: { b: {} } }), 'state.b', 'unknown-channel'],
  ['heartbeat state not a map', (p) => p.heartbeat({ channels: ['a'], state: 'x' as never }), 'state', 'type'],
  ['parameters not an object', (p) => p.hereNow('lobby' as never), 'input', 'type'],
  ['per-call timeout of 0', (p) => p.whereNow({}, { timeoutMs: 0 }), 'timeoutMs', 'range'],
  // An empty list never widens a call: here-now is global only with `global: true` (issue 16, defect 1).
  ['hereNow with an empty channel list', (p) => p.hereNow({ channels: [] }), 'channels', 'required'],
  ['hereNow with an empty group list', (p) => p.hereNow({ channelGroups: [] }), 'channels', 'required'],
  ['hereNow with both lists empty', (p) => p.hereNow({ channels: [], channelGroups: [] }), 'channels', 'required'],
  ['hereNow with no target and no global', (p) => p.hereNow({ includeState: true }), 'channels', 'required'],
  ['hereNow global with channels too', (p) => p.hereNow({ global: true, channels: ['a'] }), 'global', 'conflict'],
  ['hereNow global with an empty list too', (p) => p.hereNow({ global: true, channels: [] }), 'global', 'conflict'],
  ['hereNow global not a boolean', (p) => p.hereNow({ global: 'yes' as never }), 'global', 'type'],
  ['getPresenceState with an empty channel list', (p) => p.getPresenceState({ channels: [] }), 'channels', 'required'],
  ['setPresenceState with an empty group list', (p) => p.setPresenceState({ channelGroups: [], state: {} }), 'channels', 'required'],
  ['heartbeat with empty lists', (p) => p.heartbeat({ channels: [], channelGroups: [] }), 'channels', 'required'],
  // User ids are checked like names (defect 5).
  ['newline in a userId', (p) => p.whereNow({ userId: 'a\nb' }), 'userId', 'invalid-character'],
  ['NUL in a userId', (p) => p.getPresenceState({ channels: ['a'], userId: 'a\u0000' }), 'userId', 'invalid-character'],
  ['control character in a userId', (p) => p.setPresenceState({ channels: ['a'], state: {}, userId: '\u001bx' }), 'userId', 'invalid-character'],
  ['C1 control character in a userId', (p) => p.heartbeat({ channels: ['a'], userId: 'x\u0085' }), 'userId', 'invalid-character'],
  ['line separator in a userId', (p) => p.leave({ channels: ['a'], userId: 'x\u2028' }), 'userId', 'invalid-character'],
  ['lone surrogate in a userId', (p) => p.whereNow({ userId: 'x\ud800' }), 'userId', 'invalid-character'],
  ['lone surrogate in a channel name', (p) => p.hereNow({ channels: ['x\udc00'] }), 'channels[0]', 'invalid-character'],
  // Unknown keys are refused, never ignored (defect 6).
  ['a misspelt input field', (p) => p.hereNow({ channel: ['a'] } as never), 'channel', 'unknown-field'],
  ['a misspelt call option', (p) => p.whereNow({}, { timeout: 5 } as never), 'timeout', 'unknown-option'],
  ['call options that are not an object', (p) => p.whereNow({}, 5 as never), 'options', 'type'],
];

describe('bad input is refused before anything is sent', () => {
  for (const [name, call, field, rule] of cases) {
    test(name, async () => {
      const { presence, transport } = setup();
      const error = await call(presence).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PresenceValidationError);
      const v = error as PresenceValidationError;
      expect({ field: v.field, rule: v.rule }).toEqual({ field, rule });
      expect(v.message).toContain(field.split('.')[0]!.replace(/\[\d+\]$/, ''));
      expect(v.operation).toBeDefined();
      expect(transport.requests).toHaveLength(0);
    });
  }

  test('an empty list names itself and the way out', async () => {
    const { presence } = setup();
    await expect(presence.hereNow({ channels: [] })).rejects.toThrow(/channels is an empty list; give at least one channel .*or pass global: true/);
    await expect(presence.leave({ channelGroups: [] })).rejects.toThrow('leave: channelGroups is an empty list; give at least one channel in channels or one group in channelGroups.');
  });

  test('an unknown key names the closest known one', async () => {
    const { presence } = setup();
    await expect(presence.hereNow({ channel: ['a'] } as never)).rejects.toThrow('hereNow: unknown field "channel". Did you mean "channels"? Known fields: channels, channelGroups, global,');
    await expect(presence.whereNow({}, { timeout: 5 } as never)).rejects.toThrow('Did you mean "timeoutMs"?');
    await expect(presence.whereNow({ userID: 'x' } as never)).rejects.toThrow('Did you mean "userId"?');
    await expect(presence.whereNow({ zzzzzzzz: 1 } as never)).rejects.toThrow(/unknown field "zzzzzzzz"\. Known fields: userId\.$/);
  });

  test('a user id with any printable text passes', async () => {
    const { presence, transport } = setup();
    await presence.whereNow({ userId: 'user#1 é@x.com, 👋' });
    expect(transport.requests[0]!.path).toContain('/uuid/user%231');
  });

  test('global here-now is asked for explicitly, and then has no channel segment', async () => {
    const { presence, transport } = setup();
    await presence.hereNow({ global: true }).catch(() => undefined);
    await presence.hereNow().global(true).catch(() => undefined);
    expect(transport.requests.map((r) => r.path)).toEqual(['/v2/presence/sub-key/sub', '/v2/presence/sub-key/sub']);
  });

  test('names at the limit and with allowed punctuation pass', async () => {
    const { presence, transport } = setup();
    await presence.heartbeat({ channels: ['x'.repeat(92), 'a.b-c_d~e', 'é'.repeat(92)], channelGroups: ['g-1_2~'] });
    expect(transport.requests).toHaveLength(1);
  });
});
