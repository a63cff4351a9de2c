import { parseArgs } from 'node:util';
import type { EmulatorOptions } from './create-emulator.js';

export const cliUsage = `Usage: presence-emulator [options]

  --port <n>               port to listen on (default 8090; 0 = any free port)
  --host <addr>            address to bind (default 127.0.0.1)
  --presence-timeout <s>   presence timeout for heartbeats without a value (default 300)
  --secret-key <key>       verify v2 request signatures with this secret
  --publish-key <key>      publish key used in the string to sign (default: the literal "undefined")
  --here-now-cache <ms>    here-now response cache (0 = off; 3000 = like PubNub)
  --latency <ms>           delay every answer
  --no-global-here-now     answer global here-now with the 402 body
  --subscribe-hold <ms>    hold an idle subscribe long-poll this long (default 280000)
  --announce-max <n>       occupancy above which a channel sends interval events (default 20)
  --interval <s>           period of interval events (default 10)
  --interval-delta-max-bytes <n>
                           bigger interval delta lists become here_now_refresh (default 30000)
  --catch-up-size <n>      presence events kept per channel for catch-up (default 100)
  --catch-up-age <ms>      oldest presence event kept for catch-up (default 600000)
  -h, --help               show this help

Prints its origin (e.g. http://127.0.0.1:8090) on stdout; stops on SIGINT/SIGTERM.
Admin API: GET /__emulator/stats, POST /__emulator/reset, POST /__emulator/faults, POST /__emulator/latency,
POST /__emulator/tick, GET /__emulator/long-polls, POST /__emulator/presence-events.`;

export class CliUsageError extends Error {}

function numberArg(name: string, value: string | undefined, min: number, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new CliUsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${value}`);
  }
  return n;
}

/** Parse CLI arguments into emulator options; `undefined` means help was asked for. */
export function parseCliArgs(argv: readonly string[]): EmulatorOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'presence-timeout': { type: 'string' },
        'secret-key': { type: 'string' },
        'publish-key': { type: 'string' },
        'here-now-cache': { type: 'string' },
        latency: { type: 'string' },
        'no-global-here-now': { type: 'boolean' },
        'subscribe-hold': { type: 'string' },
        'announce-max': { type: 'string' },
        interval: { type: 'string' },
        'interval-delta-max-bytes': { type: 'string' },
        'catch-up-size': { type: 'string' },
        'catch-up-age': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  if (values.help) return undefined;
  const options: EmulatorOptions = { port: numberArg('port', values.port, 0) ?? 8090 };
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port > 65535)) {
    throw new CliUsageError(`--port must be an integer 0..65535, got ${values.port}`);
  }
  if (values.host !== undefined) options.host = values.host;
  const timeout = numberArg('presence-timeout', values['presence-timeout'], 1);
  if (timeout !== undefined) options.presenceTimeoutSec = timeout;
  if (values['secret-key'] !== undefined) options.secretKey = values['secret-key'];
  if (values['publish-key'] !== undefined) options.publishKey = values['publish-key'];
  const cache = numberArg('here-now-cache', values['here-now-cache'], 0);
  if (cache !== undefined) options.hereNowCacheMs = cache;
  const latency = numberArg('latency', values.latency, 0);
  if (latency !== undefined) options.latencyMs = latency;
  if (values['no-global-here-now']) options.globalHereNow = false;
  const hold = numberArg('subscribe-hold', values['subscribe-hold'], 1);
  if (hold !== undefined) options.subscribeHoldMs = hold;
  const announceMax = numberArg('announce-max', values['announce-max'], 0, true);
  if (announceMax !== undefined) options.announceMax = announceMax;
  const interval = numberArg('interval', values.interval, 0.001);
  if (interval !== undefined) options.intervalSec = interval;
  const deltaMax = numberArg('interval-delta-max-bytes', values['interval-delta-max-bytes'], 0, true);
  if (deltaMax !== undefined) options.intervalDeltaMaxBytes = deltaMax;
  const catchUpSize = numberArg('catch-up-size', values['catch-up-size'], 0, true);
  if (catchUpSize !== undefined) options.catchUpBufferSize = catchUpSize;
  const catchUpAge = numberArg('catch-up-age', values['catch-up-age'], 0);
  if (catchUpAge !== undefined) options.catchUpMaxAgeMs = catchUpAge;
  return options;
}
