export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_SOCKETS,
  DEFAULT_ORIGIN,
  httpTransport,
  type HttpTransport,
  type HttpTransportOptions,
} from './http-transport.js';
export { signing, signingMiddleware, signingOptions, signRequest, stringToSign, type SignatureInput, type SigningOptions } from './signing.js';
export { retry, retryOptions, safeToRepeat, type RetryOptions, type RetryPlugin } from './retry.js';
// Defined in core (watch() reconnects on the same reasons); exported here too, where it was first.
export { retryReasonOf } from '@presence/core';
export { retryBudget, type RetryBudget, type RetryBudgetOptions } from './retry-budget.js';
