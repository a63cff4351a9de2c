import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

export type RedisFailureReason = 'timeout' | 'error' | 'not_ready' | 'circuit_open';

/** Thrown by the guard instead of a Redis error: says why Redis was skipped, never what a command carried. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  constructor(readonly reason: RedisFailureReason) {
    super(`Redis was skipped (${reason}); the cache falls back to upstream.`);
  }
}

export interface CircuitBreakerOptions {
  /** Consecutive failures (errors or timeouts) that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long an open circuit skips Redis before one probe command may try it. Default 5000 ms. */
  resetMs?: number;
}

export interface CommandGuardOptions {
  redis: RedisClient;
  /** Deadline of each command. */
  commandTimeoutMs: number;
  circuitBreaker?: Required<CircuitBreakerOptions> | false;
  onFailure?: (reason: RedisFailureReason) => void;
  onCircuit?: (open: boolean) => void;
  now?: () => number;
}

export interface CommandGuard {
  /** Runs one Redis command under its own deadline; rejects with RedisUnavailableError, never hangs. */
  run<T>(command: (redis: Redis) => Promise<T>, timeoutMs?: number): Promise<T>;
  readonly circuitOpen: boolean;
}

const ignore = (): void => {};

/**
 * Every Redis command of the cache goes through here: a deadline per command, an immediate skip
 * while the client is not connected (so nothing waits in ioredis's offline queue), and a circuit
 * breaker that stops trying for a while after consecutive failures, then lets one probe through.
 */
export function createCommandGuard(options: CommandGuardOptions): CommandGuard {
  const { redis, commandTimeoutMs, onFailure = ignore, onCircuit = ignore } = options;
  const breaker = options.circuitBreaker === false ? undefined : options.circuitBreaker;
  const now = options.now ?? Date.now;
  let failures = 0;
  let openUntil = 0;
  let open = false;
  let probing = false;

  const succeeded = (): void => {
    failures = 0;
    probing = false;
    if (open) {
      open = false;
      onCircuit(false);
    }
  };
  const failed = (reason: RedisFailureReason): void => {
    onFailure(reason);
    if (!breaker) return;
    failures++;
    if (probing || (!open && failures >= breaker.failureThreshold)) {
      probing = false;
      openUntil = now() + breaker.resetMs;
      if (!open) {
        open = true;
        onCircuit(true);
      }
    }
  };

  return {
    get circuitOpen() {
      return open;
    },
    run<T>(command: (client: Redis) => Promise<T>, timeoutMs = commandTimeoutMs): Promise<T> {
      if (open) {
        // Half-open: after resetMs exactly one command probes; the rest keep skipping until it answers.
        if (probing || now() < openUntil) return Promise.reject(new RedisUnavailableError('circuit_open'));
        probing = true;
      }
      if (redis.status !== 'ready') {
        // A client made with lazyConnect connects on its first command; skipping every command would leave
        // it unconnected for ever (and the cache and roster silently off), so start the connection here.
        if (redis.status === 'wait') redis.connect().catch(ignore);
        // Not a failure of Redis itself: ioredis reconnects and says so; counting it would keep the circuit open after.
        if (probing) probing = false;
        onFailure('not_ready');
        return Promise.reject(new RedisUnavailableError('not_ready'));
      }
      return new Promise<T>((resolve, reject) => {
        let settled = false;
        let graced = false;
        let armedAt = performance.now();
        let armedFor = timeoutMs;
        let timer: ReturnType<typeof setTimeout> | undefined;
        // A busy process runs its timers before it reads replies already waiting on its sockets, so a
        // timer that fires is not yet a verdict: let one poll phase run first (setImmediate comes
        // after it), and only then judge. A timer that itself fired late shows the loop was held up;
        // that lag is given back once (at most one more timeoutMs), so a paused or gone Redis is still
        // skipped within timeoutMs + timeoutMs + the loop's own lag.
        const judge = (lateBy: number): void => {
          if (settled) return;
          if (!graced && lateBy >= 2) {
            graced = true;
            arm(Math.min(lateBy, timeoutMs));
            return;
          }
          settled = true;
          failed('timeout');
          reject(new RedisUnavailableError('timeout'));
        };
        const arm = (ms: number): void => {
          armedAt = performance.now();
          armedFor = ms;
          timer = setTimeout(() => {
            const lateBy = performance.now() - armedAt - armedFor;
            setImmediate(judge, lateBy);
          }, ms);
        };
        arm(timeoutMs);
        let pending: Promise<T>;
        try {
          // Cluster and Redis share the command methods; one type keeps the call sites simple.
          pending = command(redis as Redis);
        } catch {
          pending = Promise.reject(new Error('command threw'));
        }
        pending.then(
          (value) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            succeeded();
            resolve(value);
          },
          () => {
            // The Redis error itself is dropped: it may quote a command's arguments.
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            failed('error');
            reject(new RedisUnavailableError('error'));
          },
        );
      });
    },
  };
}
