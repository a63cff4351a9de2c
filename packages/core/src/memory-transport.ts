import { sleep } from './deadline.js';
import { requestTarget } from './encoding.js';
import type { JsonValue, PresenceRequest, PresenceResponse, Transport, TransportContext } from './types.js';

/** A scripted answer: a body (object or raw text), with an optional status, headers and delay. */
export interface ScriptedResponse {
  status?: number;
  body?: JsonValue | string;
  headers?: Record<string, string>;
  /** Milliseconds before answering; the call's signal cuts it short. */
  delayMs?: number;
  /** Reject as the network would, instead of answering. */
  error?: Error;
}

export type Responder = (request: RecordedRequest) => ScriptedResponse | Promise<ScriptedResponse>;

export interface RecordedRequest extends PresenceRequest {
  /** Path and encoded query, exactly as an HTTP transport would put them on the request line. */
  readonly target: string;
  readonly attempt: number;
}

export interface MemoryTransport extends Transport {
  /** Every request that reached the transport, in order. */
  readonly requests: readonly RecordedRequest[];
  /** Adds answers used in order, before the responder. */
  enqueue(...responses: ScriptedResponse[]): void;
  reset(): void;
}

export interface MemoryTransportOptions {
  origin?: string;
  /** Answers requests once the queue is empty. Default: 200 `{"status":200,"message":"OK","service":"Presence"}`. */
  respond?: Responder;
}

const OK: ScriptedResponse = { body: { status: 200, message: 'OK', service: 'Presence' } };

/** A scripted in-memory transport for tests: records every request, answers from a script. */
export function createMemoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedResponse[] = [];
  const respond = options.respond ?? (() => OK);
  return {
    name: 'memory',
    origin: options.origin ?? 'memory://presence',
    requests,
    enqueue: (...responses) => void queue.push(...responses),
    reset() {
      requests.length = 0;
      queue.length = 0;
    },
    async send(request: PresenceRequest, context: TransportContext): Promise<PresenceResponse> {
      const recorded: RecordedRequest = { ...request, target: requestTarget(request), attempt: context.attempt };
      requests.push(recorded);
      const scripted = queue.shift() ?? (await respond(recorded));
      if (scripted.delayMs) await sleep(scripted.delayMs, context.signal);
      if (context.signal.aborted) throw context.signal.reason;
      if (scripted.error) throw scripted.error;
      const body = typeof scripted.body === 'string' ? scripted.body : JSON.stringify(scripted.body ?? OK.body);
      return {
        status: scripted.status ?? 200,
        headers: { 'content-type': 'text/javascript; charset="UTF-8"', ...lower(scripted.headers) },
        body,
      };
    },
  };
}

function lower(headers: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
