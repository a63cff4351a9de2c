import { startApp, type App } from './app.js';
import { ConfigError, describeConfig, loadConfig } from './config.js';
import { StartupError } from './startup-error.js';

/** A bad setting ends start-up with one line naming the variable, never a stack trace. */
function fail(error: unknown): never {
  if (error instanceof ConfigError) console.error(`presence example: bad configuration: ${error.message}`);
  else if (error instanceof StartupError) console.error(`presence example: cannot start: ${error.message}`);
  else console.error(`presence example: cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

let config;
try {
  config = loadConfig();
} catch (error) {
  fail(error);
}

// A signal during start-up stops it too, once the parts started so far can be closed.
let stopRequested: NodeJS.Signals | undefined;
let app: App | undefined;
let stopping = false;
function stop(signal: NodeJS.Signals): void {
  stopRequested = signal;
  if (!app || stopping) return;
  stopping = true;
  console.log(`presence example: ${signal}: finishing in-flight requests, closing the event streams`);
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`presence example: shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
// Under `pnpm start`, Ctrl-C reaches pnpm and the service alike, and pnpm then forwards SIGINT or
// SIGTERM again: every later signal is ignored while the first one's shutdown runs.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop(signal));

// The page's URL is the first thing a person reads: lines logged while starting (Redis not answering
// yet, say) wait until it is out, or until start-up fails.
let heldLogLines: string[] | undefined = [];
const logLine = (line: string): void => (heldLogLines ? void heldLogLines.push(line) : console.error(line));
const releaseLogLines = (): void => {
  const lines = heldLogLines ?? [];
  heldLogLines = undefined;
  for (const line of lines) console.error(line);
};

try {
  app = await startApp(config, {
    logger: {
      debug: () => {},
      info: () => {},
      warn: (fields, message) => logLine(JSON.stringify({ level: 'warn', message, ...fields })),
      error: (fields, message) => logLine(JSON.stringify({ level: 'error', message, ...fields })),
    },
  });
} catch (error) {
  releaseLogLines();
  fail(error);
}

const first = app.replicas[0]!.url;
const room = encodeURIComponent(config.rooms[0]!);
console.log(`Who's online: ${first}/`);
for (const replica of app.replicas.slice(1)) console.log(`          and: ${replica.url}/`);
releaseLogLines();
console.log(`
presence example: ${describeConfig(config)}`);
if (app.emulator) console.log(`  embedded emulator at ${app.emulator.origin}`);
console.log(`
The page updates live. The JSON API:
  curl ${first}/rooms/${room}/presence
  curl '${first}/rooms/${room}/presence?state=1'
  curl ${first}/users/ada/rooms
  curl '${first}/users/ada/state?rooms=${room}'
  curl -X POST ${first}/users/you/rooms/${room}/heartbeat
  curl -X PUT -H 'content-type: application/json' -d '{"mood":"curious"}' ${first}/users/you/rooms/${room}/state
  curl -X DELETE ${first}/users/you/rooms/${room}
  curl -N ${first}/events
  curl ${first}/readyz
  curl ${first}/metrics
`);

if (stopRequested) stop(stopRequested);
