import type { RetryReason } from '../events.js';
import type { PresenceApiError } from './api-error.js';
import type { PresenceNetworkError } from './network-error.js';
import { PresenceError } from './presence-error.js';

const TIMEOUT_ERRNOS = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/**
 * Why an error is transient, so that the same request may well succeed if sent again, or
 * undefined when it is not: network errors (a stale keep-alive connection told apart), timeouts,
 * 429 and 5xx (a "false 200" with a 5xx status included). Never 4xx, validation, protocol or
 * serialization errors. `retry()` retries on these reasons and `watch()` reconnects on them.
 */
export function retryReasonOf(error: unknown): RetryReason | undefined {
  if (!PresenceError.isInstance(error)) return undefined;
  switch (error.code) {
    case 'network_error':
      if ((error as PresenceNetworkError).staleConnection) return 'stale_connection';
      return TIMEOUT_ERRNOS.has((error as PresenceNetworkError).errno ?? '') ? 'timeout' : 'network_error';
    case 'timeout':
      return 'timeout';
    case 'api_error': {
      const { status, retryable } = error as PresenceApiError;
      if (!retryable) return undefined;
      return status === 429 ? 'rate_limited' : 'server_error';
    }
    default:
      return undefined;
  }
}
