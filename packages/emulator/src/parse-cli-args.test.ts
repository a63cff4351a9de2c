import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCliArgs } from './parse-cli-args.js';

describe('parseCliArgs', () => {
  it('maps flags to emulator options', () => {
    expect(parseCliArgs([])).toEqual({ port: 8090 });
    expect(
      parseCliArgs([
        '--port', '0', '--host', '0.0.0.0', '--presence-timeout', '20', '--secret-key', 's', '--publish-key', 'p',
        '--here-now-cache', '3000', '--latency', '5', '--no-global-here-now',
      ]),
    ).toEqual({ port: 0, host: '0.0.0.0', presenceTimeoutSec: 20, secretKey: 's', publishKey: 'p', hereNowCacheMs: 3000, latencyMs: 5, globalHereNow: false });
    expect(
      parseCliArgs([
        '--subscribe-hold', '5000', '--announce-max', '50', '--interval', '5', '--interval-delta-max-bytes', '1000',
        '--catch-up-size', '500', '--catch-up-age', '30000',
      ]),
    ).toEqual({
      port: 8090,
      subscribeHoldMs: 5000,
      announceMax: 50,
      intervalSec: 5,
      intervalDeltaMaxBytes: 1000,
      catchUpBufferSize: 500,
      catchUpMaxAgeMs: 30000,
    });
    expect(parseCliArgs(['--help'])).toBeUndefined();
  });

  it('rejects bad input', () => {
    expect(() => parseCliArgs(['--port', 'abc'])).toThrow(CliUsageError);
    expect(() => parseCliArgs(['--port', '70000'])).toThrow(CliUsageError);
    expect(() => parseCliArgs(['--presence-timeout', '0'])).toThrow(CliUsageError);
    expect(() => parseCliArgs(['--bogus'])).toThrow(CliUsageError);
    expect(() => parseCliArgs(['--announce-max', '2.5'])).toThrow(/--announce-max must be an integer >= 0, got 2.5/);
    expect(() => parseCliArgs(['--subscribe-hold', '0'])).toThrow(CliUsageError);
  });
});
