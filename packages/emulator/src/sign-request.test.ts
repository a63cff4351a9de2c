import { describe, expect, it } from 'vitest';
import { encodeString, signRequest, verifySignature } from './sign-request.js';

function pairs(query: string): Array<[string, string]> {
  return query.split('&').map((part) => {
    const i = part.indexOf('=');
    return [part.slice(0, i), decodeURIComponent(part.slice(i + 1))];
  });
}

describe('signRequest (notes §2 vectors)', () => {
  it('matches the JS access.test.ts audit vector', () => {
    expect(
      signRequest({
        method: 'GET',
        publishKey: 'myPublishKey',
        path: '/v2/auth/audit/sub-key/mySubscribeKey',
        query: pairs('channel=ch1&pnsdk=PubNub-JS-Nodejs%2FsuchJavascript&timestamp=1317427200&uuid=myUUID'),
        secretKey: 'mySecretKey',
      }),
    ).toBe('v2.I7AFqanrAAtwVfvLHyKECTWw7UcZmwbRnwENpXdGB9E');
  });

  it('matches the Rust middleware vector', () => {
    expect(
      signRequest({
        method: 'GET',
        publishKey: 'pubKey',
        path: '/publish/pubKey/subKey/0/my_channel/0/%22hello%21%22',
        query: pairs('pnsdk=PubNub-Rust&store=1&timestamp=1679642098&ttl=10&uuid=userId'),
        secretKey: 'secKey',
      }),
    ).toBe('v2.AHl5lMpzyT4qcvvlqaszCjTUqU6dPb10a4_XSaYCNIQ');
  });

  it('matches the pubnub@12.0.3 here-now capture, in wire order with the signature itself present', () => {
    const input = {
      method: 'GET',
      publishKey: 'myPubKey',
      path: '/v2/presence/sub-key/mySubKey/channel/ch1',
      query: pairs(
        'limit=1000&channel-group=cg1&uuid=user%231&requestid=4cb02b75-9f52-48d6-b2cb-b406f53b78b4&pnsdk=PubNub-JS-Nodejs%2F12.0.3&auth=myAuth&timestamp=1795817069&signature=v2.x',
      ),
      secretKey: 'mySecret',
    };
    expect(signRequest(input)).toBe('v2.5i2osNe_qROle-HK6lDuOpheubqsdwGgT9x4GTQ_eQU');
    expect(verifySignature(input, 'v2.5i2osNe_qROle-HK6lDuOpheubqsdwGgT9x4GTQ_eQU')).toBe(true);
    expect(verifySignature(input, 'v2.5i2osNe_qROle-HK6lDuOpheubqsdwGgT9x4GTQ_eQV')).toBe(false);
    expect(verifySignature(input, undefined)).toBe(false);
    expect(verifySignature({ ...input, secretKey: 'other' }, 'v2.5i2osNe_qROle-HK6lDuOpheubqsdwGgT9x4GTQ_eQU')).toBe(false);
  });

  it('encodes like the JS SDK, including ~ and !*\'()', () => {
    expect(encodeString("ü id!*'()~")).toBe('%C3%BC%20id%21%2A%27%28%29%7E');
    expect(encodeString('cg1,cg2')).toBe('cg1%2Ccg2');
  });
});
