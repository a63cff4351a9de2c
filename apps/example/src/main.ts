import { startApp } from './app.js';
import { ConfigError, describeConfig, loadConfig } from './config.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`presence example: bad configuration: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const app = await startApp(config, {
  logger: {
    debug: () => {},
    info: () => {},
    warn: (fields, message) => console.warn(JSON.stringify({ level: 'warn', message, ...fields })),
    error: (fields, message) => console.error(JSON.stringify({ level: 'error', message, ...fields })),
  },
});

const first = app.replicas[0]!.url;
console.log(`presence example: ${describeConfig(config)}`);
for (const replica of app.replicas) console.log(`  listening on ${replica.url}`);
if (app.emulator) console.log(`  embedded emulator at ${app.emulator.origin}`);
console.log(`
Try:
  curl ${first}/rooms/lobby/presence
  curl '${first}/rooms/lobby/presence?state=1'
  curl ${first}/users/ada/rooms
  curl '${first}/users/ada/state?rooms=lobby'
  curl -X POST ${first}/users/you/rooms/lobby/heartbeat
  curl -X PUT -H 'content-type: application/json' -d '{"mood":"curious"}' ${first}/users/you/rooms/lobby/state
  curl -X DELETE ${first}/users/you/rooms/lobby
  curl ${first}/metrics
  curl ${first}/healthz
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`presence example: ${signal}, finishing in-flight requests`);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('presence example: shutdown failed', error);
        process.exit(1);
      },
    );
  });
}
