// A new user's program, compiled by a fresh `tsc --strict` project against the packed packages,
// once as ESM and once as CommonJS. It prints one JSON report on stdout for the test to check.
import * as core from '@presence/core';
import { createPresence, type HereNowResult, type PresenceClient, type WhereNowResult } from '@presence/core';
import * as cacheRedis from '@presence/cache-redis';
import { redisCache } from '@presence/cache-redis';
import { startRedisServer } from '@presence/cache-redis/testing';
import * as emulatorPackage from '@presence/emulator';
import { createEmulator } from '@presence/emulator';
import * as metrics from '@presence/metrics-prometheus';
import { prometheusMetrics } from '@presence/metrics-prometheus';
import * as serializer from '@presence/serializer';
import { json } from '@presence/serializer';
import * as transport from '@presence/transport-http';
import { httpTransport, retry } from '@presence/transport-http';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';

interface Mood {
  mood: string;
}

/** Every exported class or constructor (an export named in PascalCase) must keep its own name. */
function renamedExports(): string[] {
  const modules: Record<string, Record<string, unknown>> = { core, cacheRedis, emulatorPackage, metrics, serializer, transport };
  const renamed: string[] = [];
  for (const [module, exports] of Object.entries(modules)) {
    for (const [key, value] of Object.entries(exports)) {
      if (typeof value === 'function' && /^[A-Z]/.test(key) && value.name !== key) renamed.push(`${module}.${key} is named ${value.name}`);
    }
  }
  return renamed;
}

/** Every error class as a user meets it: name, toJSON().name and the first line of the stack. */
function errorNames(): Record<string, { name: string; json: unknown; stack: string | undefined }> {
  const errors: Error[] = [
    new core.PresenceValidationError('channels', 'required', 'hereNow: a message.'),
    new core.PresenceConfigurationError('userId', 'createPresence: a message.'),
    new core.PresenceApiError({ status: 429, httpStatus: 429, operation: 'hereNow' }),
    new core.PresenceProtocolError('hereNow: a message.'),
    new core.PresenceNetworkError('hereNow: a message.', 'ECONNRESET'),
    new core.PresenceTimeoutError(10),
    new core.PresenceAbortError(),
    new core.PresenceSerializationError('a message.'),
    new cacheRedis.RedisUnavailableError('timeout'),
  ];
  const seen: Record<string, { name: string; json: unknown; stack: string | undefined }> = {};
  for (const error of errors) {
    const json = 'toJSON' in error && typeof error.toJSON === 'function' ? (error.toJSON as () => { name?: unknown })().name : undefined;
    seen[error.constructor.name] = { name: error.name, json, stack: error.stack?.split('\n')[0]?.split(':')[0] };
  }
  return seen;
}

async function calls(): Promise<Record<string, unknown>> {
  const emulator = await createEmulator();
  const server = await startRedisServer();
  const redis = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const registry = new Registry();
  const metricsPlugin = prometheusMetrics({ registry });
  // The plugin's registry is a prom-client Registry as the user's own code types it.
  const sameRegistry: Registry = metricsPlugin.registry;
  const presence = createPresence<Mood>({
    subscribeKey: 'demo',
    userId: 'new-user',
    transport: httpTransport({ origin: emulator.origin }),
    serializer: json<Mood>(),
    plugins: [retry(), redisCache({ redis }), metricsPlugin],
  });
  // A helper written for any client takes a client of any state type.
  const anyClient: PresenceClient<unknown> = presence;
  try {
    await presence.heartbeat({ channels: ['lobby'], heartbeat: 60 });
    await presence.setPresenceState().channels(['lobby']).state({ mood: 'happy' });
    const objectStyle: HereNowResult<Mood> = await presence.hereNow({ channels: ['lobby'], includeState: true });
    const builderStyle: HereNowResult<Mood> = await presence.hereNow().channels(['lobby']).includeState(true);
    const whereNow: WhereNowResult = await presence.whereNow();
    const executed = await anyClient.whereNow().userId('new-user').execute();
    const state = await presence.getPresenceState({ channels: ['lobby'] });
    const emptyList = await presence.hereNow({ channels: [] }).then(
      () => 'resolved',
      (error: unknown) => (error instanceof core.PresenceError ? `${error.name}: ${error.message}` : 'another error'),
    );
    await presence.leave({ channels: ['lobby'] });
    const cached = (await registry.getMetricsAsJSON()).length > 0 && sameRegistry === registry;
    return { objectStyle, builderStyle, whereNow, executed, state, emptyList, cached };
  } finally {
    await presence.close();
    redis.disconnect();
    await server.stop();
    await emulator.close();
  }
}

async function main(): Promise<void> {
  const report = { renamed: renamedExports(), errors: errorNames(), calls: await calls() };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
