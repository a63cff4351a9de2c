import { PresenceConfigurationError, rejectUnknownOptions } from '@presence/core';
import type { CircuitBreakerOptions } from './command-guard.js';

const show = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

/** The longest delay a Node timer can wait: beyond it, setTimeout/setInterval fire after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** `max`: for a value that drives a timer, MAX_TIMER_MS. */
export function checkPositive(field: string, value: unknown, fallback: number, max = Number.POSITIVE_INFINITY): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    const limit = max === Number.POSITIVE_INFINITY ? '' : ` up to ${max}`;
    throw new PresenceConfigurationError(field, `${field} must be a positive number of milliseconds${limit}; got ${show(value)}.`);
  }
  return value;
}

export function checkNonNegative(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new PresenceConfigurationError(field, `${field} must be zero or a positive number of milliseconds; got ${show(value)}.`);
  }
  return value;
}

export function checkInteger(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new PresenceConfigurationError(field, `${field} must be a whole number of at least 1; got ${show(value)}.`);
  }
  return value;
}

export function checkFraction(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new PresenceConfigurationError(field, `${field} must be a fraction from 0 (no jitter) up to but excluding 1, e.g. 0.1 for ±10 %; got ${show(value)}.`);
  }
  return value;
}

export function checkObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PresenceConfigurationError(field, `${field} must be an options object${field.endsWith('l1') || field.endsWith('circuitBreaker') ? ' or false' : ''}; got ${Array.isArray(value) ? 'an array' : show(value)}.`);
  }
  return value as Record<string, unknown>;
}

export function checkPrefix(field: string, value: unknown): string {
  if (value === undefined) return 'presence:';
  // Braces would change which part of a key Redis Cluster hashes, splitting a key from its lock.
  if (typeof value !== 'string' || value.length === 0 || value.length > 64 || /[{}\s]/.test(value)) {
    throw new PresenceConfigurationError(field, `${field} must be a non-empty string of at most 64 characters without braces or spaces, e.g. "presence:"; got ${show(value)}.`);
  }
  return value;
}

export function checkCircuitBreaker(field: string, value: unknown): Required<CircuitBreakerOptions> | false {
  if (value === false) return false;
  const options = value === undefined ? {} : checkObject(field, value);
  rejectUnknownOptions(field, options, ['failureThreshold', 'resetMs'], `${field}.`);
  return {
    failureThreshold: checkInteger(`${field}.failureThreshold`, options.failureThreshold, 5),
    resetMs: checkPositive(`${field}.resetMs`, options.resetMs, 5000),
  };
}

export function checkRedisClient(field: string, value: unknown): void {
  const client = value as { status?: unknown; get?: unknown; duplicate?: unknown } | undefined;
  if (typeof client !== 'object' || client === null || typeof client.get !== 'function' || typeof client.status !== 'string' || typeof client.duplicate !== 'function') {
    throw new PresenceConfigurationError(field, `${field} must be an ioredis Redis or Cluster instance, e.g. new Redis(process.env.REDIS_URL); got ${value === null ? 'null' : typeof value}.`);
  }
}
