import { PresenceConfigurationError } from './errors/configuration-error.js';

/** An options key that is not one of the known ones, and the known key it was most likely meant to be. */
export interface UnknownKey {
  readonly key: string;
  readonly closest: string | undefined;
}

/** Edit distance (insert, delete, replace one character), for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known name closest to `name`, if one is close enough to be a likely typo or near-synonym. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    // A prefix (`timeout` → `timeoutMs`) counts as close as a one-letter typo.
    const score = other.startsWith(lower) || lower.startsWith(other) ? 1 : distance(lower, other);
    if (score < bestScore) [best, bestScore] = [candidate, score];
  }
  return bestScore <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** The first own key of `options` that is not in `known` (keys whose value is undefined count too). */
export function findUnknownKey(options: object, known: readonly string[]): UnknownKey | undefined {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) return { key, closest: closestName(key, known) };
  }
  return undefined;
}

/** "unknown option "timeout"; did you mean "timeoutMs"? Known options: …" — one sentence for every options object. */
export function unknownKeyMessage(where: string, noun: string, unknown: UnknownKey, known: readonly string[]): string {
  const hint = unknown.closest === undefined ? '' : ` Did you mean "${unknown.closest}"?`;
  return `${where}: unknown ${noun} ${JSON.stringify(unknown.key)}.${hint} Known ${noun}s: ${known.join(', ')}.`;
}

/**
 * Rejects an options object with a key that is not in `known`, naming the key and the closest
 * known one. A misspelt option is a configuration error at construction, never silently ignored.
 * Plugins call it first thing: `rejectUnknownOptions('retry()', options, ['maxAttempts', …], 'retry.')`.
 */
export function rejectUnknownOptions(where: string, options: object | undefined, known: readonly string[], fieldPrefix = ''): void {
  if (options === undefined || options === null || typeof options !== 'object') return;
  const unknown = findUnknownKey(options, known);
  if (unknown) throw new PresenceConfigurationError(`${fieldPrefix}${unknown.key}`, unknownKeyMessage(where, 'option', unknown, known));
}
