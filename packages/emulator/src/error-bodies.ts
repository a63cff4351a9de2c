/**
 * Verbatim error bodies from the protocol notes (§5 of PUBNUB-PRESENCE.md). They are kept as
 * ready-made strings because clients (notably Rust and the JS SDK) decode errors by body shape, so
 * field names, `error: 1` vs `error: true` and the presence or absence of `status` all matter.
 */
export const errorBodies = {
  /** §5 "invalid/unparseable state" (Go test `error_400_invalid_json.json`). */
  invalidJson: '{"status": 400, "error": 1, "message": "Invalid JSON specified.", "service": "Presence"}',
  /** §5 "missing state" (Swift `error_400_set_state_no_state.json`). */
  noState: '{"status": 400, "error": 1, "message": "No state specified.", "service": "Presence"}',
  /** §3.1 paging: message text from Kotlin live tests; shape inferred (notes say "probably"). */
  limitTooLarge:
    '{"status": 400, "error": 1, "message": "Cannot return more than 1000 uuids at a time", "service": "Presence"}',
  limitNegative:
    '{"status": 400, "error": 1, "message": "Limit must be greater than or equal to 0", "service": "Presence"}',
  /** §5 "bad sub key" (`error_400_invalid_subscribe_key.json`). */
  invalidSubscribeKey: '{"message":"Invalid Subscribe Key","error":true,"service":"Access Manager","status":400}',
  /** §5 "PAM parse error"; reused for requests we cannot even decode (bad percent-encoding). */
  couldNotParse: '{"message":"Could Not Parse Request","error":true,"service":"Access Manager","status":400}',
  /** §5 "global here-now disabled" (`jsnock_here_now_global_402_not_enabled.json`). */
  globalHereNowDisabled:
    '{"status": 402, "error": 1, "message": "This feature is not turned on for this account. Contact support@pubnub.com to activate this feature.", "service": "Presence"}',
  /**
   * §5 "PAM v3 signature/token" (`error_403_pam_v3_invalid_signature.json`): this is the body the notes
   * list for a signature the server could not reproduce, so it is what a bad or missing v2 signature gets.
   */
  invalidSignature:
    '{"error":{"message":"Invalid signature","source":"grant","details":[{"message":"Client and server produced different signatures for the same inputs.","location":"signature","locationType":"query"}]},"service":"Access Manager","status":403}',
  /** §5 "body too large" (`error_413_request_entity_too_large.json`). */
  entityTooLarge: '{"status": 413, "error": true, "service": "Balancer", "message": "Request Entity Too Large."}',
  /** §5 "URI too long" (Swift mock). */
  uriTooLong: '{"message":"Request URI Too Long","error":true,"service":"Balancer","status":414}',
  /** §5 "rate limited" (Rust doc; Swift maps this message). */
  tooManyRequests: '{"status": 429, "error": true, "message": "Too many requests."}',
  /** §5 "5xx (as false 200)" (JS test "recovers from false 200 via status"). */
  false200: '{"status": 503, "message": "Service Unavailable", "error": 1, "service": "Presence"}',
  /** Not in the notes: a plain 500 in the Presence error shape, for fault injection only. */
  internalError: '{"status": 500, "error": 1, "message": "Internal Server Error", "service": "Presence"}',
  /** Same words as the false-200 body, but sent with HTTP 503. */
  serviceUnavailable: '{"status": 503, "message": "Service Unavailable", "error": 1, "service": "Presence"}',
  /**
   * Not in the notes: a subscribe whose channel groups hold no channels (and that names no channel). The
   * message is the one the SDKs match on (c-core `PNR_GROUP_EMPTY`, C# `EmptyGroupSubscription`, Go tests);
   * the shape is the PubSub error object seen in public write-ups of that answer.
   */
  emptyGroupSubscription:
    '{"status":400,"service":"PubSub","error":true,"message":"Channel group or groups result in empty subscription set"}',
  /** §5 "outage" (Swift mock). */
  gatewayTimeout: '{"service":"Access Manager","status":504,"error":true,"message":"Service Unavailable"}',
} as const;

/** §5 "bad presence path" (Swift `resourceNotFound_Message.json`): note there is no `status` key. */
export function notFoundBody(path: string): string {
  return `{"message": ${JSON.stringify(`Not found: '${path}'`)},"error": 1,"service": "Presence"}`;
}

/** §5 "PAM v2 forbidden" (Swift `forbidden_Message.json`), used by the `'403'` fault preset. */
export function forbiddenBody(channels: readonly string[], channelGroups: readonly string[]): string {
  const payload: Record<string, readonly string[]> = { channels };
  if (channelGroups.length > 0) payload['channel-groups'] = channelGroups;
  return JSON.stringify({ message: 'Forbidden', payload, error: true, service: 'Access Manager', status: 403 });
}
