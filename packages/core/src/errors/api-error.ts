import { PresenceError, type PresenceErrorOptions } from './presence-error.js';

export interface PresenceApiErrorInit extends PresenceErrorOptions {
  /** The status the service reported: the body's `status` when it has one (a "false 200"), else the HTTP status. */
  status: number;
  /** The HTTP status line's code, which differs from `status` for a "false 200". */
  httpStatus: number;
  /** `Presence`, `Access Manager`, `Balancer`, … as the body says. */
  service?: string | undefined;
  /** The service's own message, verbatim. */
  serviceMessage?: string | undefined;
  /** Channels and groups an Access Manager 403 names. */
  channels?: readonly string[] | undefined;
  channelGroups?: readonly string[] | undefined;
  /** From a `Retry-After` header, in milliseconds. */
  retryAfterMs?: number | undefined;
}

/** The service answered with an error (HTTP ≥ 400, or an HTTP 200 whose body says status ≥ 400). */
export class PresenceApiError extends PresenceError {
  readonly code = 'api_error' as const;
  readonly status: number;
  readonly httpStatus: number;
  readonly service: string | undefined;
  readonly serviceMessage: string | undefined;
  readonly channels: readonly string[];
  readonly channelGroups: readonly string[];
  readonly retryAfterMs: number | undefined;
  override readonly retryable: boolean;

  constructor(init: PresenceApiErrorInit) {
    super(PresenceApiError.describe(init), init);
    this.status = init.status;
    this.httpStatus = init.httpStatus;
    this.service = init.service;
    this.serviceMessage = init.serviceMessage;
    this.channels = init.channels ?? [];
    this.channelGroups = init.channelGroups ?? [];
    this.retryAfterMs = init.retryAfterMs;
    // 429 and 5xx are worth another try; 4xx means the request itself must change.
    this.retryable = init.status === 429 || init.status >= 500;
  }

  /** One sentence: which call, who answered what, and what to do. */
  private static describe(init: PresenceApiErrorInit): string {
    const call = init.operation ? `${init.operation}: ` : '';
    const who = init.service ? `the ${init.service} service` : 'the service';
    // The service's own words, without the trailing period some messages carry ("Too many requests.").
    const words = init.serviceMessage?.trim().replace(/[.\s]+$/u, '');
    const said = words ? ` (${words})` : '';
    const fake = init.httpStatus !== init.status ? ` inside an HTTP ${init.httpStatus} response` : '';
    const sentence = `${call}${who} answered ${init.status}${said}${fake}; ${PresenceApiError.advice(init)}`;
    return call ? sentence : sentence[0]!.toUpperCase() + sentence.slice(1);
  }

  private static advice(init: PresenceApiErrorInit): string {
    const { status } = init;
    if (status === 403) {
      const names = [...(init.channels ?? []), ...(init.channelGroups ?? [])];
      const scope = names.length ? ` for ${names.join(', ')}` : '';
      return `check the auth key's grants${scope} and the secret key used for signing.`;
    }
    if (status === 400) return 'fix the request (the service named the problem) before retrying.';
    if (status === 401) return 'check the auth key and the secret key used for signing.';
    if (status === 402) return 'enable this feature for the key set in the PubNub admin portal.';
    if (status === 414 || status === 413) return 'send fewer channels or a smaller state.';
    if (status === 429) return 'slow down and retry after the delay the service asked for (the retry() plugin does this).';
    if (status >= 500) return 'retry later, it is unavailable for now (the retry() plugin does this).';
    return 'fix the request before retrying.';
  }

  protected override details(): Record<string, unknown> {
    return {
      status: this.status,
      httpStatus: this.httpStatus,
      service: this.service,
      serviceMessage: this.serviceMessage,
      channels: this.channels,
      channelGroups: this.channelGroups,
      retryAfterMs: this.retryAfterMs,
    };
  }
}
