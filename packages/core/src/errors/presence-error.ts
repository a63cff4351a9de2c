import type { OperationName } from '../types.js';

/** What went wrong, in the words metrics and logs use. One per error class. */
export type ErrorCode =
  | 'validation_error'
  | 'configuration_error'
  | 'api_error'
  | 'protocol_error'
  | 'network_error'
  | 'timeout'
  | 'aborted'
  | 'serialization_error';

const BRAND = Symbol.for('@presence/core:PresenceError');

export interface PresenceErrorOptions {
  operation?: OperationName | undefined;
  cause?: unknown;
}

/**
 * Base of every error this toolkit throws. Recognisable across duplicate installs of the package
 * (a `Symbol.for` brand), so `PresenceError.isInstance(e)` works where `instanceof` would not.
 * By construction no subclass carries a secret key, auth key, signature or request URL.
 */
export abstract class PresenceError extends Error {
  abstract readonly code: ErrorCode;
  /** Whether trying the same call again may succeed. */
  readonly retryable: boolean = false;
  /** Set by the client when the error leaves a call. */
  operation: OperationName | undefined;

  constructor(message: string, options: PresenceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.operation = options.operation;
    Object.defineProperty(this, BRAND, { value: true });
  }

  override get name(): string {
    return this.constructor.name;
  }

  static isInstance(value: unknown): value is PresenceError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** Plain, secret-free data for logs and HTTP error bodies. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    if (this.operation) out.operation = this.operation;
    if (this.retryable) out.retryable = true;
    return { ...out, ...this.details() };
  }

  /** Subclasses add their own public fields here. */
  protected details(): Record<string, unknown> {
    return {};
  }
}
