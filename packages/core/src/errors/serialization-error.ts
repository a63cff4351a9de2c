import { PresenceError, type PresenceErrorOptions } from './presence-error.js';

export interface PresenceSerializationErrorOptions extends PresenceErrorOptions {
  channel?: string | undefined;
  userId?: string | undefined;
  /** Where in the state the problem is, e.g. `mood` or `items.2.id`. */
  path?: string | undefined;
}

/** A presence state could not be encoded for the wire or decoded from a response. */
export class PresenceSerializationError extends PresenceError {
  readonly code = 'serialization_error' as const;
  readonly channel: string | undefined;
  readonly userId: string | undefined;
  readonly path: string | undefined;

  constructor(message: string, options: PresenceSerializationErrorOptions = {}) {
    super(message, options);
    this.channel = options.channel;
    this.userId = options.userId;
    this.path = options.path;
  }

  /** The same problem, placed at a channel and user. */
  at(where: { channel?: string | undefined; userId?: string | undefined }): PresenceSerializationError {
    const place = [where.channel && `channel "${where.channel}"`, where.userId && `user "${where.userId}"`]
      .filter(Boolean)
      .join(', ');
    return new PresenceSerializationError(place ? `${this.message} (${place})` : this.message, {
      operation: this.operation,
      cause: this.cause,
      path: this.path,
      channel: where.channel ?? this.channel,
      userId: where.userId ?? this.userId,
    });
  }

  protected override details(): Record<string, unknown> {
    return { channel: this.channel, userId: this.userId, path: this.path };
  }
}
