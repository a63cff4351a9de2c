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

const scopes = new WeakMap<ResolvedConfig, { scope: string; prefix: string }>();

/** Origin and subscribe key: what every key and tag of one service is scoped by (computed once per client). */
function scopeOf(config: ResolvedConfig): { scope: string; prefix: string } {
  let found = scopes.get(config);
  if (!found) {
    const scope = `${encodeString(config.origin)}|${encodeString(config.subscribeKey)}`;
    // Keys carry a short digest of the scope, the serializer and the auth partition rather than the
    // text itself: a cache hit hashes the whole key string, so every character costs.
    const digest = createHash('sha256').update(`${scope}|${encodeString(config.serializer.id)}|${authPartition(config)}`).digest('base64url').slice(0, 16);
    found = { scope, prefix: digest };
    scopes.set(config, found);
  }
  return found;
}

// Most names need no encoding; skipping the regex replace for them keeps cache hits cheap.
const PLAIN = /^[A-Za-z0-9_.-]*$/;
const encodeName = (name: string): string => (PLAIN.test(name) ? name : encodeString(name));
const list = (names: readonly string[]): string => (names.length === 1 ? encodeName(names[0]!) : names.map(encodeName).join(','));
const sorted = (names: readonly string[]): readonly string[] => (names.length < 2 ? names : [...names].sort());

/**
 * The canonical key of a cacheable call: the same question always gives the same key, whatever
 * the order of channels and groups, and any difference in the answer's inputs gives another key.
 * Names are percent-encoded, so `|` and `,` inside them cannot make two questions collide. Layout:
 * `operation|scope digest|channels|groups|flag values` (the digest covers origin, subscribe key,
 * serializer and auth partition).
 */
export function cacheKeyOf(operation: AnyOperation, params: unknown, config: ResolvedConfig): string | undefined {
  const parts = operation.cacheKey?.(params);
  if (!parts) return undefined;
  // The descriptor lists its flags in a fixed order, so their values alone are canonical.
  let flags = '';
  for (const name in parts.flags) flags += `${flags ? ',' : ''}${String(parts.flags[name])}`;
  return `${operation.name}|${scopeOf(config).prefix}|${list(sorted(parts.channels))}|${list(sorted(parts.channelGroups))}|${flags}`;
}

/**
 * Tags an entry carries: one per channel and group, `groups` when groups were asked about (their
 * members are not known here), `global` for global here-now, and `all`.
 */
export function cacheTagsOf(operation: AnyOperation, params: unknown, config: ResolvedConfig): string[] {
  const parts = operation.cacheKey?.(params);
  if (!parts) return [];
  const { scope } = scopeOf(config);
  const tags = [`${scope}|all`];
  for (const name of parts.channels) tags.push(`${scope}|ch:${encodeName(name)}`);
  for (const name of parts.channelGroups) tags.push(`${scope}|cg:${encodeName(name)}`);
  if (parts.channelGroups.length) tags.push(`${scope}|groups`);
  if (!parts.channels.length && !parts.channelGroups.length) tags.push(`${scope}|global`);
  return tags;
}

/**
 * Tags a write makes stale. A channel write also reaches every group and global answer (either
 * may include that channel); a group write may touch any channel, so it drops the whole scope.
 */
export function invalidationTagsOf(invalidation: Invalidation, config: ResolvedConfig): string[] {
  const { scope } = scopeOf(config);
  if (invalidation.channelGroups.length) return [`${scope}|all`];
  return [...invalidation.channels.map((name) => `${scope}|ch:${encodeName(name)}`), `${scope}|groups`, `${scope}|global`];
}
