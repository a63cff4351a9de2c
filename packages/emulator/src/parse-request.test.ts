import { describe, expect, it } from 'vitest';
import { parseRequest, RequestParseError, splitNames } from './parse-request.js';

describe('parseRequest', () => {
  it('routes every presence path, with both sub-key spellings', () => {
    expect(parseRequest('/v2/presence/sub-key/k').route).toEqual({ kind: 'hereNow', subKey: 'k', channels: null });
    expect(parseRequest('/v2/presence/sub_key/k/channel/a,b?limit=3').route).toEqual({ kind: 'hereNow', subKey: 'k', channels: ['a', 'b'] });
    expect(parseRequest('/v2/presence/sub-key/k/channel/,/heartbeat').route).toEqual({ kind: 'heartbeat', subKey: 'k', channels: [] });
    expect(parseRequest('/v2/presence/sub_key/k/channel/a/leave').route).toEqual({ kind: 'leave', subKey: 'k', channels: ['a'] });
    expect(parseRequest('/v2/presence/sub-key/k/channel/a/uuid/user%231').route).toEqual({ kind: 'getState', subKey: 'k', channels: ['a'], uuid: 'user#1' });
    expect(parseRequest('/v2/presence/sub-key/k/channel/a/uuid/u/data?state=%7B%7D').route).toEqual({ kind: 'setState', subKey: 'k', channels: ['a'], uuid: 'u' });
    expect(parseRequest('/v2/presence/sub-key/k/uuid/other%20user').route).toEqual({ kind: 'whereNow', subKey: 'k', uuid: 'other user' });
    expect(parseRequest('/v1/channel-registration/sub-key/k/channel-group').route).toEqual({ kind: 'channelGroup', subKey: 'k', group: null, deleteGroup: false });
    expect(parseRequest('/v1/channel-registration/sub-key/k/channel-group/g%201/remove').route).toEqual({ kind: 'channelGroup', subKey: 'k', group: 'g 1', deleteGroup: true });
    expect(parseRequest('/time/0').route).toEqual({ kind: 'time' });
    expect(parseRequest('/__emulator/stats').route).toEqual({ kind: 'admin', action: 'stats' });
  });

  it('splits the raw channel segment on commas before decoding', () => {
    expect(splitNames('room%201%2Fa%2Cb,caf%C3%A9')).toEqual(['room 1/a,b', 'café']);
    expect(splitNames(',')).toEqual([]);
    expect(splitNames('a,,a,b')).toEqual(['a', 'b']);
  });

  it('decodes the query once, keeping repeats and literal plus signs', () => {
    const parsed = parseRequest('/v2/presence/sub-key/k/channel/,?channel-group=cg1%2Ccg2&x=a+b&x=2&flag');
    expect(parsed.params.get('channel-group')).toBe('cg1,cg2');
    expect(parsed.params.get('x')).toBe('a+b');
    expect(parsed.query).toEqual([['channel-group', 'cg1,cg2'], ['x', 'a+b'], ['x', '2'], ['flag', '']]);
  });

  it('sends unknown and malformed paths to notFound, and throws on bad percent-encoding', () => {
    expect(parseRequest('/v2/presence/demo/demo/channel/x/heartbeat').route.kind).toBe('notFound');
    expect(parseRequest('/v2/presence/sub-key/k/channel/a/bogus').route.kind).toBe('notFound');
    expect(parseRequest('/').route.kind).toBe('notFound');
    expect(parseRequest('http://example.com/time/0').route.kind).toBe('time');
    expect(() => parseRequest('/v2/presence/sub-key/k/channel/%E0%A4%A')).toThrow(RequestParseError);
    expect(() => parseRequest('/time/0?x=%zz')).toThrow(RequestParseError);
  });
});
