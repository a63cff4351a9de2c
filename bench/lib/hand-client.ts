// The floor for the client: the same protocol work, written by hand for this one call. A minimal
// keep-alive client that builds the same here-now URL with the same parameters (uuid, requestid,
// pnsdk; timestamp and a v2 signature when it has a secret key), checks and parses the body and
// maps it to the same result the client returns. No retries, no deadline, no middleware, no
// validation of input: what is left is what any correct client has to do.
import { createHmac, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';

export interface HandClientOptions {
  origin: string;
  subscribeKey: string;
  publishKey?: string;
  secretKey?: string;
  userId: string;
  /** The `pnsdk` value, the same the client sends. */
  sdkName: string;
  maxSockets: number;
}

export interface HandHereNowResult {
  totalChannels: number;
  totalOccupancy: number;
  channels: Array<{ name: string; occupancy: number; occupants: Array<{ userId: string; state?: unknown }> }>;
}

/** PubNub's percent-encoding: encodeURIComponent plus `!~*'()` (protocol notes §1.2). */
const encode = (value: string): string => encodeURIComponent(value).replace(/[!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function handClient(options: HandClientOptions) {
  const url = new URL(options.origin);
  // Idle pooled sockets close after 4 s, before the emulator's 10 s keep-alive closes them under a
  // request (a side can sit idle for seconds on a busy machine while the others run their rounds).
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo', timeout: 4000 });
  const key: KeyObject | undefined = options.secretKey ? createSecretKey(Buffer.from(options.secretKey, 'utf8')) : undefined;
  const channelBase = `/v2/presence/sub-key/${encode(options.subscribeKey)}/channel/`;
  const uuid = encode(options.userId);
  const pnsdk = encode(options.sdkName);

  function get(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ hostname: url.hostname, port: url.port, path, agent, headers: { 'accept-encoding': 'gzip, deflate' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const encoding = res.headers['content-encoding'];
          const body = encoding === 'gzip' ? zlib.gunzipSync(raw) : encoding === 'deflate' ? zlib.inflateSync(raw) : raw;
          resolve({ status: res.statusCode ?? 0, body: body.toString('utf8') });
        });
      });
      req.on('error', reject);
    });
  }

  return {
    async hereNow(channel: string, includeState: boolean): Promise<HandHereNowResult> {
      const path = channelBase + encode(channel);
      // In the official SDK's order (notes §1.4, §3.1).
      const params: Array<[string, string]> = [['limit', '1000']];
      if (includeState) params.push(['state', '1']);
      params.push(['uuid', uuid], ['requestid', randomUUID()], ['pnsdk', pnsdk]);
      let query = params.map(([name, value]) => `${name}=${value}`).join('&');
      if (key) {
        // v2 signature (notes §2): HMAC-SHA256 over method, publish key, path and the sorted query.
        const timestamp = String(Math.floor(Date.now() / 1000));
        params.push(['timestamp', timestamp]);
        const sorted = params.sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([name, value]) => `${name}=${value}`).join('&');
        const signature = `v2.${createHmac('sha256', key).update(`GET\n${options.publishKey}\n${path}\n${sorted}\n`).digest('base64url')}`;
        query += `&timestamp=${timestamp}&signature=${signature}`;
      }
      const { status, body } = await get(`${path}?${query}`);
      const parsed = JSON.parse(body) as { status?: number; error?: boolean; message?: string; occupancy?: number; uuids?: Array<string | { uuid: string; state?: unknown }> };
      if (status !== 200 || parsed.error || parsed.status !== 200) throw new Error(`here-now failed: HTTP ${status}, ${parsed.message ?? 'no message'}`);
      if (typeof parsed.occupancy !== 'number') throw new Error('here-now: the answer has no occupancy');
      const occupants = (parsed.uuids ?? []).map((entry) =>
        typeof entry === 'string' ? { userId: entry } : entry.state === undefined ? { userId: entry.uuid } : { userId: entry.uuid, state: entry.state },
      );
      return { totalChannels: 1, totalOccupancy: parsed.occupancy, channels: [{ name: channel, occupancy: parsed.occupancy, occupants }] };
    },
    close(): void {
      agent.destroy();
    },
  };
}
