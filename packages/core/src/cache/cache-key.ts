import { createHash } from 'node:crypto';
import { encodeString } from '../encoding.js';
import type { AnyOperation, Invalidation, ResolvedConfig } from '../types.js';

const authHashes = new WeakMap<ResolvedConfig, string>();

/**
 * A hash of the auth key, so entries of different auth keys never mix while the key itself never
 * reaches a cache key, a Redis value or a log line.
 */
export function authPartition(config: ResolvedConfig): string {
  let hash = authHashes.get(config);
  if (hash === undefined) {
    hash = config.authKey ? createHash('sha256').update(`presence-auth\0${config.authKey.reveal()}`).digest('hex').slice(0, 24) : 'none';
    authHashes.set(config, hash);
  }
  return hash;
}

/** Origin and subscribe key: what every key and tag of one service is scoped by. */
function scopeOf(config: ResolvedConfig): string {
  return `${encodeString(config.origin)}|${encodeString(config.subscribeKey)}`;
}

const list = (names: readonly string[]): string => names.map(encodeString).join(',');

/**
 * The canonical key of a cacheable call: the same question always gives the same key, whatever
 * the order of channels and groups, and any difference in the answer's inputs gives another key.
 * Names are percent-encoded, so `|`, `,` and `=` inside them cannot make two questions collide.
 */
export function cacheKeyOf(operation: AnyOperation, params: unknown, config: ResolvedConfig): string | undefined {
  const parts = operation.cacheKey?.(params);
  if (!parts) return undefined;
  const flags = Object.keys(parts.flags)
    .sort()
    .map((name) => `${name}=${String(parts.flags[name])}`)
    .join('&');
  return [
    'v1',
    operation.name,
    scopeOf(config),
    encodeString(config.serializer.id),
    `auth=${authPartition(config)}`,
    `ch=${list([...parts.channels].sort())}`,
    `cg=${list([...parts.channelGroups].sort())}`,
    flags,
  ].join('|');
}

/**
 * Tags an entry carries: one per channel and group, `groups` when groups were asked about (their
 * members are not known here), `global` for global here-now, and `all`.
 */
export function cacheTagsOf(operation: AnyOperation, params: unknown, config: ResolvedConfig): string[] {
  const parts = operation.cacheKey?.(params);
  if (!parts) return [];
  const scope = scopeOf(config);
  const tags = [`${scope}|all`];
  for (const name of parts.channels) tags.push(`${scope}|ch:${encodeString(name)}`);
  for (const name of parts.channelGroups) tags.push(`${scope}|cg:${encodeString(name)}`);
  if (parts.channelGroups.length) tags.push(`${scope}|groups`);
  if (!parts.channels.length && !parts.channelGroups.length) tags.push(`${scope}|global`);
  return tags;
}

/**
 * Tags a write makes stale. A channel write also reaches every group and global answer (either
 * may include that channel); a group write may touch any channel, so it drops the whole scope.
 */
export function invalidationTagsOf(invalidation: Invalidation, config: ResolvedConfig): string[] {
  const scope = scopeOf(config);
  if (invalidation.channelGroups.length) return [`${scope}|all`];
  return [...invalidation.channels.map((name) => `${scope}|ch:${encodeString(name)}`), `${scope}|groups`, `${scope}|global`];
}
