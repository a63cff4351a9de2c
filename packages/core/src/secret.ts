import { encodeString } from './encoding.js';

const REDACTED = '[redacted]';

/**
 * Holds a secret (secret key, auth key) so that printing, logging or serialising the object
 * that carries it never shows it. Only `reveal()` gives the value, at the one place that needs it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

/** Replaces every occurrence of each secret in `text` (raw and both percent-encodings) with `[redacted]`. */
export function scrubSecrets(text: string, secrets: readonly (Secret | string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    const value = secret instanceof Secret ? secret.reveal() : secret;
    if (!value) continue;
    // As typed, as a URL may carry it, and as the SDK encodes it on the wire (`!~*'()` too).
    for (const form of new Set([value, encodeURIComponent(value), encodeString(value)])) out = out.split(form).join(REDACTED);
  }
  return out;
}

/** A short, secret-free excerpt of a response body for error messages. */
export function excerptOf(body: string, secrets: readonly (Secret | string | undefined)[] = [], max = 120): string {
  const flat = scrubSecrets(body, secrets).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
