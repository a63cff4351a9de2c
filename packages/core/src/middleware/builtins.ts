import { randomUUID } from 'node:crypto';
import { readEnvelope } from '../envelope.js';
import type { Middleware, MiddlewareOptions } from '../types.js';

/**
 * Serialize step: the operation turns validated parameters into a request. The next call is built
 * field by field: the call entering the stack holds its signal behind an accessor, which a spread
 * would copy on V8's slow path; from here on calls are plain objects that spread cheaply.
 */
export const buildRequest: Middleware = (next) => (call) =>
  next({
    id: call.id,
    operation: call.operation,
    params: call.params,
    config: call.config,
    signal: call.signal,
    deadline: call.deadline,
    timeoutMs: call.timeoutMs,
    attempt: call.attempt,
    request: call.operation.request(call.params, call.config),
  });
export const buildRequestOptions: MiddlewareOptions = { name: 'buildRequest', step: 'serialize', priority: 0 };

/**
 * Finalize step, inside retry and outside signing: the parameters every request carries, added in
 * one place and in the official SDK's order (notes §1.4): `uuid`, `requestid`, `pnsdk`, `auth`.
 * A fresh `requestid` per attempt, since each attempt is its own request.
 */
export const commonParams: Middleware = (next, { config }) => (call) => {
  const request = call.request!;
  const query = [...request.query];
  if (!query.some(([name]) => name === 'uuid')) query.push(['uuid', config.userId]);
  query.push(['requestid', randomUUID()], ['pnsdk', config.sdkName]);
  if (config.authKey) query.push(['auth', config.authKey.reveal()]);
  return next({ ...call, request: { ...request, query } });
};
export const commonParamsOptions: MiddlewareOptions = { name: 'commonParams', step: 'finalize', priority: -50 };

/** Deserialize step: envelope checks (errors, "false 200"), then the operation's parser. */
export const parseResponse: Middleware = (next, { config }) => async (call) => {
  const result = await next(call);
  if (!result.response || 'output' in result) return result;
  // The signature is a secret too: a body that echoes the request must not carry it into an excerpt.
  const signature = call.request?.query.find(([name]) => name === 'signature')?.[1];
  const body = readEnvelope(result.response, call.operation.name, [config.authKey, config.secretKey, signature]);
  return { response: result.response, output: call.operation.parse(body, call.params, config) };
};
export const parseResponseOptions: MiddlewareOptions = { name: 'parseResponse', step: 'deserialize', priority: 0 };
