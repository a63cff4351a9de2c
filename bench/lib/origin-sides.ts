// The four sides of the origin-path here-now comparison, built alike for `sections/origin.ts`
// (throughput and CPU time) and `instructions.ts` (instructions per request): the client as the
// README sets it up, the same work by hand, a raw node:http GET and the official pubnub SDK, all
// against one emulator at `origin`. Seeds 20 users with state and checks that every side gets the
// same answer and that the hand client sends the client's URL.
import http from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { createPresence, requestTarget, type PresenceRequest } from '@presence/core';
import { httpTransport, retry } from '@presence/transport-http';
import PubNub from 'pubnub';
import { handClient } from './hand-client.js';

export const SUBSCRIBE_KEY = 'sub-c-bench';
export const PUBLISH_KEY = 'pub-c-bench';
export const BENCH_SECRET_KEY = 'bench-secret';
const USERS = 20;
const MAX_SOCKETS = 50;
const CHANNEL = 'lobby';
// Each side's idle sockets close after 4 s, before the emulator's 10 s keep-alive closes them under a
// request: on a busy machine a side can sit idle for seconds while the others run their rounds.
const IDLE_SOCKET_MS = 4000;

export const SIDES = ['client', 'hand', 'raw', 'sdk'] as const;
export type Side = (typeof SIDES)[number];

export interface OriginSides {
  readonly sides: Record<Side, () => Promise<unknown>>;
  close(): Promise<void>;
}

export interface OriginSidesOptions {
  /**
   * The client's call deadline and the SDK's request timeout, in ms (defaults: theirs). Under
   * valgrind a request on a busy machine can take longer than the default 10 s.
   */
  timeoutMs?: number;
}

export async function originSides(origin: string, signed: boolean, options: OriginSidesOptions = {}): Promise<OriginSides> {
  const { timeoutMs } = options;
  const keys = { subscribeKey: SUBSCRIBE_KEY, publishKey: PUBLISH_KEY, ...(signed ? { secretKey: BENCH_SECRET_KEY } : {}) };
  // Ours, as the README sets it up: keep-alive transport (signing when there is a secret key) and retry().
  const client = createPresence({ ...keys, userId: 'bench', transport: httpTransport({ origin, maxSockets: MAX_SOCKETS }), plugins: [retry()], ...(timeoutMs ? { timeoutMs } : {}) });
  const hand = handClient({ ...keys, origin, userId: 'bench', sdkName: client.config.sdkName, maxSockets: MAX_SOCKETS });
  const sdk = new PubNub({ ...keys, origin: new URL(origin).host, ssl: false, userId: 'bench', keepAlive: true, keepAliveSettings: { timeout: IDLE_SOCKET_MS }, enableEventEngine: false, ...(timeoutMs ? { transactionalRequestTimeout: Math.ceil(timeoutMs / 1000) } : {}) });

  for (let i = 0; i < USERS; i++) {
    await client.heartbeat({ channels: [CHANNEL], heartbeat: 300, state: { [CHANNEL]: { n: i, name: `user ${i}` } }, userId: `user-${i}` });
  }
  const input = { channels: [CHANNEL], includeState: true };

  // Every side gets the same answer (the SDK in its own shape), and the hand client sends the same URL.
  const ours = await client.hereNow(input);
  if (ours.totalOccupancy !== USERS) throw new Error(`seeding failed: ${ours.totalOccupancy} users in ${CHANNEL}`);
  if (!isDeepStrictEqual(await hand.hereNow(CHANNEL, true), ours)) throw new Error('the hand-written client maps the answer differently from the client');
  const fromSdk = await sdk.hereNow({ channels: [CHANNEL], includeState: true });
  if (fromSdk.totalOccupancy !== USERS) throw new Error(`the SDK saw ${fromSdk.totalOccupancy} users`);

  let captured: PresenceRequest | undefined;
  client.stack.add((next) => (call) => {
    captured = call.request;
    return next(call);
  }, { name: 'capture', step: 'finalize', priority: -200 });
  await client.hereNow(input);
  client.stack.remove('capture');
  // Signed once: the emulator checks the signature, not the timestamp's age, so this one URL serves the raw side all run.
  const rawPath = requestTarget(captured!);
  const variable = /(requestid|timestamp|signature)=[^&]*/g;
  const handPaths: string[] = [];
  const spy = http.get;
  // The hand client's URL, but for its per-request values, must be the client's.
  (http as { get: typeof http.get }).get = ((options: http.RequestOptions, callback: (res: http.IncomingMessage) => void) => {
    handPaths.push(options.path!);
    return spy(options, callback);
  }) as typeof http.get;
  await hand.hereNow(CHANNEL, true);
  (http as { get: typeof http.get }).get = spy;
  if (handPaths[0]!.replace(variable, '$1') !== rawPath.replace(variable, '$1')) {
    throw new Error(`the hand-written client sends ${handPaths[0]}, the client ${rawPath}`);
  }

  const url = new URL(origin);
  const rawAgent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, scheduling: 'lifo', timeout: IDLE_SOCKET_MS });
  const rawOptions = { hostname: url.hostname, port: url.port, path: rawPath, agent: rawAgent };
  /** The least a client does: GET a fixed URL, read the body, JSON.parse it. */
  function rawGet(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = http.get(rawOptions, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))) : reject(new Error(`raw GET answered ${res.statusCode}`))));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  return {
    sides: {
      client: () => client.hereNow(input),
      hand: () => hand.hereNow(CHANNEL, true),
      raw: rawGet,
      sdk: () => sdk.hereNow({ channels: [CHANNEL], includeState: true }),
    },
    async close() {
      await client.close();
      hand.close();
      rawAgent.destroy();
      sdk.destroy();
    },
  };
}
