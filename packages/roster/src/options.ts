import { PresenceConfigurationError } from '@presence/core';

const show = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'an array' : String(value));

export function checkOptionsObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PresenceConfigurationError(name, `${name}() takes an options object, e.g. ${name}({ channels: ['lobby'] }); got ${show(value)}.`);
  }
  return value as Record<string, unknown>;
}

/** Channel or group names: non-empty strings the service accepts (notes §8), without duplicates. */
export function checkNameList(field: string, value: unknown, kind: 'channel' | 'channel group'): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new PresenceConfigurationError(field, `${field} must be an array of ${kind} names, e.g. ['lobby']; got ${show(value)}.`);
  const names = new Set<string>();
  value.forEach((name: unknown, index) => {
    if (typeof name !== 'string' || name.length === 0) throw new PresenceConfigurationError(`${field}[${index}]`, `${field}[${index}] must be a non-empty ${kind} name; got ${show(name)}.`);
    // eslint-disable-next-line no-control-regex -- it looks for control characters on purpose
    if (/[,:*/\\\s\u0000-\u001f]/.test(name)) throw new PresenceConfigurationError(`${field}[${index}]`, `${field}[${index}] ${JSON.stringify(name)} holds a character the service refuses in a ${kind} name (, : * / \\ space or a control character).`);
    if (name.endsWith('-pnpres')) throw new PresenceConfigurationError(`${field}[${index}]`, `${field}[${index}] ${JSON.stringify(name)} is a presence channel; name the ${kind} itself and its presence events are watched.`);
    names.add(name);
  });
  return [...names];
}

/** `channel` / `channelGroup` (singular) are no options: say so, rather than "needs something to watch". */
export function refuseSingularNames(name: string, opts: Record<string, unknown>): void {
  for (const [singular, plural] of [['channel', 'channels'], ['channelGroup', 'channelGroups']] as const) {
    if (singular in opts) {
      throw new PresenceConfigurationError(`${name}.${singular}`, `${name} has no ${singular} option; pass ${plural}, an array of names, e.g. ${name}({ ${plural}: ['lobby'] }).`);
    }
  }
}

export function checkWatchTargets(name: string, channels: readonly string[], groups: readonly string[]): void {
  if (channels.length === 0 && groups.length === 0) {
    throw new PresenceConfigurationError(`${name}.channels`, `${name} needs something to watch: give channels, channelGroups or both, e.g. ${name}({ channels: ['lobby'] }).`);
  }
}

export function checkPositiveMs(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) throw new PresenceConfigurationError(field, `${field} must be a positive number of milliseconds; got ${show(value)}.`);
  return value;
}

/** The longest delay a Node timer can wait: beyond it (Infinity too), setInterval fires every millisecond. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A period that drives a timer: positive, finite, at most MAX_TIMER_MS. */
export function checkTimerMs(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new PresenceConfigurationError(field, `${field} must be a positive number of milliseconds up to ${MAX_TIMER_MS} (about 24.8 days); got ${show(value)}.`);
  }
  return value;
}

export function checkNonNegativeMs(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new PresenceConfigurationError(field, `${field} must be zero or a positive number of milliseconds; got ${show(value)}.`);
  return value;
}

export function checkPositiveInteger(field: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) throw new PresenceConfigurationError(field, `${field} must be a whole number from 1 to ${max}; got ${show(value)}.`);
  return value;
}
