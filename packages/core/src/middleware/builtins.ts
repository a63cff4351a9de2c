import { randomUUID } from 'node:crypto';
import { deriveCall } from '../call-scope.js';
import { readEnvelope } from '../envelope.js';
import type { Middleware, MiddlewareOptions, QueryParam } from '../types.js';

/** Serialize step: the operation turns validated parameters into a request. */
export const buildRequest: Middleware = (next) => (call) => next(deriveCall(call, { request: call.operation.request(call.params, call.config) }));
export const buildRequestOptions: MiddlewareOptions = { name: 'buildRequest', step: 'serialize', priority: 0 };

/**
 * Finalize step, inside retry and outside signing: the parameters every request carries, added in
 * one place and in the official SDK's order (notes §1.4): `uuid`, `requestid`, `pnsdk`, `auth`.
 * A fresh `requestid` per attempt, since each attempt is its own request.
 */
export const commonParams: Middleware = (next, { config }) => (call) => {
  const request = call.request!;
  const given = request.query;
  const query: QueryParam[] = [];
  let hasUuid = false;
  for (let i = 0; i < given.length; i++) {
    const param = given[i]!;
    if (param[0] === 'uuid') hasUuid = true;
    query.push(param);
  }
  if (!hasUuid) query.push(['uuid', config.userId]);
  query.push(['requestid', randomUUID()], ['pnsdk', config.sdkName]);
  if (config.authKey) query.push(['auth', config.authKey.reveal()]);
  return next(deriveCall(call, { request: { ...request, query } }));
};
export const commonParamsOptions: MiddlewareOptions = { name: 'commonParams', step: 'finalize', priority: -50 };

/** Deserialize step: envelope checks (errors, "false 200"), then the operation's parser. */
export const parseResponse: Middleware = (next, { config }) => async (call) => {
  const result = await next(call);
  if (!result.response || 'output' in result) return result;
  // The signature is a secret too: a body that echoes the request must not carry it into an excerpt.
  // Looked up only when an error is built.
  const body = readEnvelope(result.response, call.operation.name, () => [config.authKey, config.secretKey, call.request?.query.find(([name]) => name === 'signature')?.[1]]);
  return { response: result.response, output: call.operation.parse(body, call.params, config) };
};
export const parseResponseOptions: MiddlewareOptions = { name: 'parseResponse', step: 'deserialize', priority: 0 };
