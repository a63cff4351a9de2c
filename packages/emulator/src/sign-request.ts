import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The official JS SDK's `encodeString` (notes §1.3): `encodeURIComponent` plus `!~*'()`. Signatures are
 * computed over values encoded this way, so verification must re-encode decoded values identically.
 */
export function encodeString(input: string): string {
  return encodeURIComponent(input).replace(/[!~*'()]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface SignatureInput {
  method: string;
  /** Configured publish key; JS interpolates `undefined` when none is set (notes §2), so we do too. */
  publishKey: string | undefined;
  /** The path exactly as sent on the wire (already percent-encoded). */
  path: string;
  /** Decoded query pairs; `signature` is skipped here. */
  query: ReadonlyArray<readonly [string, string]>;
  body?: string;
  secretKey: string;
}

/**
 * Signature v2 (notes §2): `v2.` + base64url(HMAC-SHA256(secret, METHOD\npubKey\npath\nsortedQuery\nbody)).
 * Keys are sorted, and repeated keys have their values sorted too, as `RequestSignature.queryParameters` does.
 */
export function signRequest(input: SignatureInput): string {
  const grouped = new Map<string, string[]>();
  for (const [key, value] of input.query) {
    if (key === 'signature') continue;
    const values = grouped.get(key);
    if (values) values.push(value);
    else grouped.set(key, [value]);
  }
  const sortedQuery = [...grouped.keys()]
    .sort()
    .map((key) =>
      (grouped.get(key) ?? [])
        .sort()
        .map((value) => `${key}=${encodeString(value)}`)
        .join('&'),
    )
    .join('&');
  const toSign = `${input.method.toUpperCase()}\n${input.publishKey}\n${input.path}\n${sortedQuery}\n${input.body ?? ''}`;
  const digest = createHmac('sha256', input.secretKey).update(toSign, 'utf8').digest('base64');
  return `v2.${digest.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** Constant-time comparison of a received signature against the expected one. */
export function verifySignature(input: SignatureInput, received: string | undefined): boolean {
  if (!received) return false;
  const expected = Buffer.from(signRequest(input));
  const actual = Buffer.from(received);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
