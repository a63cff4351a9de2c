import { errorBodies, forbiddenBody } from './error-bodies.js';
import type { Reply } from './handle-presence.js';
import { operationNames, type OperationName } from './parse-request.js';

/**
 * Ready-made faults:
 * - `false200`: HTTP 200 carrying a 503 error body (notes §1.5 item 3, §5);
 * - `429`: rate limited, with `Retry-After`;
 * - `500`, `503`, `504`: server errors with JSON bodies;
 * - `403`: the Access Manager (PAM v2) forbidden body listing the request's channels;
 * - `reset`: destroy the socket without answering;
 * - `hang`: never answer; the client has to time out (the socket is destroyed on `close()`).
 */
export type FaultPreset = 'false200' | '429' | '500' | '503' | '504' | '403' | 'reset' | 'hang';

export const faultPresets: readonly FaultPreset[] = ['false200', '429', '500', '503', '504', '403', 'reset', 'hang'];

export interface FaultResponse {
  status: number;
  /** A string is sent as is; anything else is JSON-encoded. Defaults to an empty object. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FaultRule {
  /** Only requests of these operations; all operations when omitted. */
  operation?: OperationName | OperationName[];
  /** Only requests naming this channel or channel group (path or `channel-group`). */
  channel?: string;
  /** Chance (0..1) that a matching request fails; 1 when omitted. */
  probability?: number;
  /** Fail at most this many (further) matching requests, then drop the rule. Unlimited when omitted. */
  count?: number;
  response: FaultPreset | FaultResponse;
  /** `Retry-After` seconds for the `'429'` preset; 1 when omitted. */
  retryAfterSec?: number;
}

export type FaultAction = { kind: 'reply'; reply: Reply } | { kind: 'reset' } | { kind: 'hang' };

export class FaultRuleError extends Error {}

/** Validate untrusted rules (they also arrive as JSON through the admin API). */
export function validateFaultRules(input: unknown): FaultRule[] {
  if (!Array.isArray(input)) throw new FaultRuleError('fault rules must be an array');
  return input.map((raw, i): FaultRule => {
    if (typeof raw !== 'object' || raw === null) throw new FaultRuleError(`rule ${i} must be an object`);
    const rule = raw as Record<string, unknown>;
    const ops = rule.operation === undefined ? [] : Array.isArray(rule.operation) ? rule.operation : [rule.operation];
    for (const op of ops) {
      if (!operationNames.includes(op as OperationName)) throw new FaultRuleError(`rule ${i}: unknown operation ${String(op)}`);
    }
    if (rule.channel !== undefined && typeof rule.channel !== 'string') throw new FaultRuleError(`rule ${i}: channel must be a string`);
    const p = rule.probability;
    if (p !== undefined && (typeof p !== 'number' || !(p >= 0 && p <= 1))) throw new FaultRuleError(`rule ${i}: probability must be 0..1`);
    const c = rule.count;
    if (c !== undefined && (typeof c !== 'number' || !Number.isInteger(c) || c < 0)) throw new FaultRuleError(`rule ${i}: count must be a non-negative integer`);
    const r = rule.response;
    if (typeof r === 'string') {
      if (!faultPresets.includes(r as FaultPreset)) throw new FaultRuleError(`rule ${i}: unknown preset ${r}`);
    } else if (typeof r !== 'object' || r === null || typeof (r as FaultResponse).status !== 'number') {
      throw new FaultRuleError(`rule ${i}: response must be a preset name or { status, body?, headers? }`);
    } else {
      const status = (r as FaultResponse).status;
      if (!Number.isInteger(status) || status < 100 || status > 599) throw new FaultRuleError(`rule ${i}: bad status`);
    }
    const ra = rule.retryAfterSec;
    if (ra !== undefined && (typeof ra !== 'number' || ra < 0)) throw new FaultRuleError(`rule ${i}: retryAfterSec must be >= 0`);
    return { ...(rule as unknown as FaultRule), operation: ops.length > 0 ? (ops as OperationName[]) : undefined };
  });
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

export interface FaultTarget {
  operation: OperationName;
  /** Channel and group names the request names. */
  names: readonly string[];
  channels: readonly string[];
  groups: readonly string[];
}

/** Per-emulator fault rules; the first matching rule that fires decides the answer. */
export class FaultInjector {
  private active: ActiveRule[] = [];

  constructor(private readonly random: () => number) {}

  set(rules: readonly FaultRule[]): void {
    this.active = validateFaultRules(rules).map((rule) => ({ rule, remaining: rule.count ?? Number.POSITIVE_INFINITY }));
  }

  rules(): FaultRule[] {
    return this.active.map(({ rule, remaining }) =>
      Number.isFinite(remaining) ? { ...rule, count: remaining } : { ...rule },
    );
  }

  /** Returns the fault to inject, or undefined to serve normally. */
  match(target: FaultTarget): FaultAction | undefined {
    for (const entry of this.active) {
      const { rule } = entry;
      if (entry.remaining <= 0) continue;
      const ops = rule.operation === undefined ? undefined : Array.isArray(rule.operation) ? rule.operation : [rule.operation];
      if (ops && !ops.includes(target.operation)) continue;
      if (rule.channel !== undefined && !target.names.includes(rule.channel)) continue;
      if (rule.probability !== undefined && rule.probability < 1 && !(this.random() < rule.probability)) continue;
      entry.remaining -= 1;
      if (entry.remaining <= 0) this.active = this.active.filter((e) => e !== entry);
      return toAction(rule, target);
    }
    return undefined;
  }
}

function toAction(rule: FaultRule, target: FaultTarget): FaultAction {
  const r = rule.response;
  if (typeof r !== 'string') {
    const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {});
    return { kind: 'reply', reply: { status: r.status, body, ...(r.headers ? { headers: r.headers } : {}) } };
  }
  switch (r) {
    case 'false200':
      return { kind: 'reply', reply: { status: 200, body: errorBodies.false200 } };
    case '429':
      return {
        kind: 'reply',
        reply: { status: 429, body: errorBodies.tooManyRequests, headers: { 'Retry-After': String(rule.retryAfterSec ?? 1) } },
      };
    case '500':
      return { kind: 'reply', reply: { status: 500, body: errorBodies.internalError } };
    case '503':
      return { kind: 'reply', reply: { status: 503, body: errorBodies.serviceUnavailable } };
    case '504':
      return { kind: 'reply', reply: { status: 504, body: errorBodies.gatewayTimeout } };
    case '403':
      return { kind: 'reply', reply: { status: 403, body: forbiddenBody(target.channels, target.groups) } };
    case 'reset':
      return { kind: 'reset' };
    case 'hang':
      return { kind: 'hang' };
  }
}
