import { createPresence, hereNow, PresenceConfigurationError, requestTarget, type PresenceRequest, type QueryParam } from '@presence/core';
import { createMemoryTransport as createTransport } from '@presence/core/testing';
import { describe, expect, it } from 'vitest';
import { retry } from './retry.js';
import { createSigner, SignedRequest, signing, signingOptions, signRequest, stringToSign } from './signing.js';

describe('signRequest: reference vectors (protocol notes §2)', () => {
  it('JS SDK access audit vector', () => {
    const input = {
      publishKey: 'myPublishKey',
      path: '/v2/auth/audit/sub-key/mySubscribeKey',
      query: [['channel', 'ch1'], ['pnsdk', 'PubNub-JS-Nodejs/suchJavascript'], ['timestamp', '1317427200'], ['uuid', 'myUUID']] as QueryParam[],
    };
    expect(signRequest('mySecretKey', input)).toBe('v2.I7AFqanrAAtwVfvLHyKECTWw7UcZmwbRnwENpXdGB9E');
  });

  it('Rust SDK publish vector', () => {
    const input = {
      publishKey: 'pubKey',
      path: '/publish/pubKey/subKey/0/my_channel/0/%22hello%21%22',
      // Deliberately unsorted: signing sorts by name.
      query: [['uuid', 'userId'], ['ttl', '10'], ['timestamp', '1679642098'], ['store', '1'], ['pnsdk', 'PubNub-Rust']] as QueryParam[],
    };
    expect(signRequest('secKey', input)).toBe('v2.AHl5lMpzyT4qcvvlqaszCjTUqU6dPb10a4_XSaYCNIQ');
  });

  it('captured live here-now vector from pubnub@12.0.3, string to sign included', () => {
    const input = {
      publishKey: 'myPubKey',
      path: '/v2/presence/sub-key/mySubKey/channel/ch1',
      // Insertion order as the SDK sent it, with a stale signature that must be ignored.
      query: [
        ['channel-group', 'cg1'], ['limit', '1000'], ['uuid', 'user#1'], ['requestid', '4cb02b75-9f52-48d6-b2cb-b406f53b78b4'],
        ['pnsdk', 'PubNub-JS-Nodejs/12.0.3'], ['auth', 'myAuth'], ['timestamp', '1795817069'], ['signature', 'v2.stale'],
      ] as QueryParam[],
    };
    expect(stringToSign(input)).toBe(
      'GET\nmyPubKey\n/v2/presence/sub-key/mySubKey/channel/ch1\nauth=myAuth&channel-group=cg1&limit=1000&pnsdk=PubNub-JS-Nodejs%2F12.0.3&requestid=4cb02b75-9f52-48d6-b2cb-b406f53b78b4&timestamp=1795817069&uuid=user%231\n',
    );
    expect(signRequest('mySecret', input)).toBe('v2.5i2osNe_qROle-HK6lDuOpheubqsdwGgT9x4GTQ_eQU');
  });

  it('encodes values with encodeString (~ ! * \' ( ) too) and sorts repeated names by value', () => {
    const text = stringToSign({ publishKey: 'p', path: '/x', query: [['b', "~!*'()"], ['a', '2'], ['a', '1']] });
    expect(text).toBe("GET\np\n/x\na=1&a=2&b=%7E%21%2A%27%28%29\n");
  });
});

describe('signing middleware', () => {
  const base = { subscribeKey: 'mySubKey', publishKey: 'myPubKey', userId: 'user#1' };
  const HERE_NOW = { status: 200, message: 'OK', service: 'Presence', occupancy: 0, uuids: [] };
  const createMemoryTransport = () => createTransport({ respond: () => ({ body: HERE_NOW }) });

  it('adds timestamp then signature, last, over the common parameters', async () => {
    const transport = createMemoryTransport();
    const client = createPresence({ ...base, secretKey: 'mySecret', authKey: 'myAuth', transport, plugins: [signing({ now: () => 1_795_817_069_999 })] });
    expect(client.stack.list().find((m) => m.name === 'signing')).toEqual({ name: 'signing', step: 'finalize', priority: -100 });
    await client.hereNow({ channels: ['ch1'] });
    const [request] = transport.requests;
    const names = request!.query.map(([name]) => name);
    expect(names.slice(-2)).toEqual(['timestamp', 'signature']);
    expect(names).toEqual(expect.arrayContaining(['uuid', 'requestid', 'pnsdk', 'auth']));
    const query = request!.query.filter(([name]) => name !== 'signature');
    expect(query.find(([name]) => name === 'timestamp')![1]).toBe('1795817069');
    const expected = signRequest('mySecret', { publishKey: 'myPubKey', path: request!.path, query });
    expect(request!.query.at(-1)).toEqual(['signature', expected]);
    await client.close();
  });

  it('re-signs every attempt: fresh requestid, timestamp and signature', async () => {
    let clock = 1_700_000_000_000;
    const transport = createMemoryTransport();
    transport.enqueue({ status: 503, body: { status: 503, error: 1, message: 'Service Unavailable', service: 'Presence' } });
    const client = createPresence({
      ...base,
      secretKey: 's3cret',
      transport,
      plugins: [signing({ now: () => (clock += 1000) }), retry({ baseDelayMs: 0 })],
    });
    await client.hereNow({ channels: ['a'] });
    expect(transport.requests).toHaveLength(2);
    const value = (i: number, name: string) => transport.requests[i]!.query.find(([n]) => n === name)?.[1];
    for (const name of ['requestid', 'timestamp', 'signature']) expect(value(0, name)).not.toBe(value(1, name));
    expect(Number(value(1, 'timestamp')) - Number(value(0, 'timestamp'))).toBe(1);
    // Each attempt carries exactly one timestamp and one signature.
    for (const request of transport.requests) expect(request.query.filter(([n]) => n === 'signature' || n === 'timestamp')).toHaveLength(2);
    await client.close();
  });

  it('adds nothing without a secret key', async () => {
    const transport = createMemoryTransport();
    const client = createPresence({ ...base, transport, plugins: [signing()] });
    expect(client.stack.has(signingOptions.name)).toBe(false);
    await client.send(hereNow, { channels: ['a'] });
    expect(transport.requests[0]!.query.some(([name]) => name === 'signature' || name === 'timestamp')).toBe(false);
    await client.close();
  });

  it('refuses a clock that is not a function', () => {
    expect(() => signing({ now: 5 as unknown as () => number })).toThrow(PresenceConfigurationError);
  });

  it('keeps for the transport the same request line requestTarget() would build', async () => {
    const transport = createMemoryTransport();
    const client = createPresence({
      ...base,
      userId: "user#1~!*'()é",
      secretKey: 'k',
      authKey: 'tok/en+=~',
      transport,
      plugins: [{ name: 'signer', apply: (stack) => stack.add(createSigner(() => 1_000_000), signingOptions) }],
    });
    const seen: PresenceRequest[] = [];
    client.stack.add((next) => (call) => {
      seen.push(call.request!);
      return next(call);
    }, { name: 'spy', step: 'finalize', priority: -200 });
    await client.hereNow({ channels: ['a.b', 'c~d', 'é(1)'], channelGroups: ['g-1'] }).catch(() => undefined);
    await client.leave({ channels: ['x'] });
    expect(seen).toHaveLength(2);
    for (const request of seen) {
      expect(SignedRequest.targetOf(request)).toBe(requestTarget(request));
      expect(SignedRequest.targetOf(request)).toBe(transport.requests[seen.indexOf(request)]!.target);
      // A copy (a later middleware changing the query) carries no line: the transport encodes it afresh.
      expect(SignedRequest.targetOf({ ...request })).toBeUndefined();
    }
    await client.close();
  });
});
