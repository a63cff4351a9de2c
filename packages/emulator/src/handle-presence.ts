import { errorBodies } from './error-bodies.js';
import { splitList, type Route } from './parse-request.js';
import type { PresenceState, PresenceStore } from './presence-store.js';

export interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export interface PresenceHandlerOptions {
  globalHereNow: boolean;
}

type PresenceRoute = Extract<Route, { kind: 'hereNow' | 'whereNow' | 'getState' | 'setState' | 'heartbeat' | 'leave' }>;

const ok = (body: unknown): Reply => ({ status: 200, body: JSON.stringify(body) });
const fail = (status: number, body: string): Reply => ({ status, body });

/** Heartbeat and leave ignore `-pnpres` names, as the JS and Swift SDKs strip them anyway (notes §3.5). */
const notPresenceChannel = (name: string): boolean => !name.endsWith('-pnpres');

export function isPlainObject(value: unknown): value is PresenceState {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parse a `state` query value; `undefined` means "not valid JSON". */
export function parseJson(raw: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(raw) as unknown };
  } catch {
    return undefined;
  }
}

/** Bodies use the 2025 server style: compact, keys sorted (notes §1.5). */
export function handlePresence(
  store: PresenceStore,
  route: PresenceRoute,
  params: ReadonlyMap<string, string>,
  options: PresenceHandlerOptions,
): Reply {
  if (route.subKey === '') return fail(400, errorBodies.invalidSubscribeKey);
  switch (route.kind) {
    case 'hereNow':
      return hereNow(store, route, params, options);
    case 'whereNow':
      return ok({
        message: 'OK',
        payload: { channels: store.whereNow(route.subKey, route.uuid) },
        service: 'Presence',
        status: 200,
      });
    case 'getState':
      return getState(store, route, params);
    case 'setState':
      return setState(store, route, params);
    case 'heartbeat':
      return heartbeat(store, route, params);
    case 'leave': {
      const uuid = params.get('uuid') ?? '';
      const groups = splitList(params.get('channel-group')).filter(notPresenceChannel);
      const channels = store.resolve(route.subKey, route.channels.filter(notPresenceChannel), groups);
      store.leave(route.subKey, uuid, channels);
      return ok({ action: 'leave', message: 'OK', service: 'Presence', status: 200 });
    }
  }
}

function flag(params: ReadonlyMap<string, string>, ...names: string[]): boolean {
  for (const name of names) {
    const value = params.get(name);
    if (value !== undefined && value !== '0' && value !== 'false') return true;
  }
  return false;
}

function hereNow(
  store: PresenceStore,
  route: Extract<Route, { kind: 'hereNow' }>,
  params: ReadonlyMap<string, string>,
  options: PresenceHandlerOptions,
): Reply {
  // Go sends the hyphenated alias (notes §3.1).
  const includeUuids = !flag(params, 'disable_uuids', 'disable-uuids');
  const includeState = flag(params, 'state');
  let limit = 1000;
  const rawLimit = params.get('limit');
  if (rawLimit !== undefined && rawLimit !== '') {
    const parsed = Number(rawLimit);
    if (Number.isFinite(parsed)) limit = Math.trunc(parsed);
  }
  if (limit > 1000) return fail(400, errorBodies.limitTooLarge);
  if (limit < 0) return fail(400, errorBodies.limitNegative);
  const rawOffset = Number(params.get('offset') ?? 0);
  const offset = Number.isFinite(rawOffset) && rawOffset > 0 ? Math.trunc(rawOffset) : 0;

  const listUuids = (name: string): unknown[] => {
    const channel = store.channel(route.subKey, name);
    const out: unknown[] = [];
    if (!channel || limit === 0) return out;
    // Paging is per channel over join order; occupancy stays the full count (notes §3.1 "Paging").
    let skip = offset;
    for (const [uuid, member] of channel.members) {
      if (!member.present) continue;
      if (skip > 0) {
        skip -= 1;
        continue;
      }
      // With state=1, entries are objects and `state` appears only when one exists (not null).
      out.push(includeState ? (member.state ? { state: member.state, uuid } : { uuid }) : uuid);
      if (out.length >= limit) break;
    }
    return out;
  };

  const groups = splitList(params.get('channel-group'));
  if (route.channels !== null && route.channels.length === 1 && groups.length === 0) {
    const name = route.channels[0] as string;
    const body: Record<string, unknown> = {
      message: 'OK',
      occupancy: store.channel(route.subKey, name)?.occupancy ?? 0,
      service: 'Presence',
      status: 200,
    };
    if (includeUuids) body.uuids = listUuids(name);
    return ok(body);
  }

  let names: Iterable<string>;
  if (route.channels === null && groups.length === 0) {
    if (!options.globalHereNow) return fail(402, errorBodies.globalHereNowDisabled);
    names = [...store.channels(route.subKey)].map(([name]) => name);
  } else {
    names = store.resolve(route.subKey, route.channels ?? [], groups);
  }
  const channels: Record<string, unknown> = {};
  let totalChannels = 0;
  let totalOccupancy = 0;
  for (const name of names) {
    const occupancy = store.channel(route.subKey, name)?.occupancy ?? 0;
    // Zero-occupancy channels are left out of the multi form and not counted.
    if (occupancy === 0) continue;
    totalChannels += 1;
    totalOccupancy += occupancy;
    // `uuids: []` even for limit=0, unlike the real server: the JS SDK crashes without it (notes §3.1).
    channels[name] = includeUuids ? { occupancy, uuids: listUuids(name) } : { occupancy };
  }
  return ok({
    message: 'OK',
    payload: { channels, total_channels: totalChannels, total_occupancy: totalOccupancy },
    service: 'Presence',
    status: 200,
  });
}

function getState(
  store: PresenceStore,
  route: Extract<Route, { kind: 'getState' }>,
  params: ReadonlyMap<string, string>,
): Reply {
  const groups = splitList(params.get('channel-group'));
  if (route.channels.length === 1 && groups.length === 0) {
    const channel = route.channels[0] as string;
    // Single form (notes §3.4): payload IS the state, plus top-level uuid and channel.
    return ok({
      status: 200,
      message: 'OK',
      payload: store.getState(route.subKey, route.uuid, channel) ?? {},
      uuid: route.uuid,
      channel,
      service: 'Presence',
    });
  }
  const channels: Record<string, PresenceState> = {};
  for (const name of store.resolve(route.subKey, route.channels, groups)) {
    const state = store.getState(route.subKey, route.uuid, name);
    if (state) channels[name] = state;
  }
  // Multi form: keyed by (member) channel, top-level uuid, no `channel` key.
  return ok({ status: 200, message: 'OK', payload: { channels }, uuid: route.uuid, service: 'Presence' });
}

function setState(
  store: PresenceStore,
  route: Extract<Route, { kind: 'setState' }>,
  params: ReadonlyMap<string, string>,
): Reply {
  const raw = params.get('state');
  if (raw === undefined) return fail(400, errorBodies.noState);
  const parsed = parseJson(raw);
  // Valid JSON that is not an object has no recorded answer; the notes advise the invalid-JSON 400.
  if (!parsed || !isPlainObject(parsed.value)) return fail(400, errorBodies.invalidJson);
  const groups = splitList(params.get('channel-group'));
  store.setState(route.subKey, route.uuid, store.resolve(route.subKey, route.channels, groups), parsed.value);
  // The payload echoes the stored state, not keyed by channel (notes §3.3).
  return ok({ status: 200, message: 'OK', payload: parsed.value, service: 'Presence' });
}

function heartbeat(
  store: PresenceStore,
  route: Extract<Route, { kind: 'heartbeat' }>,
  params: ReadonlyMap<string, string>,
): Reply {
  const uuid = params.get('uuid') ?? '';
  const requestedChannels = route.channels.filter(notPresenceChannel);
  const groups = splitList(params.get('channel-group')).filter(notPresenceChannel);
  const heartbeatSec = Number(params.get('heartbeat'));
  const timeoutSec = Number.isFinite(heartbeatSec) && heartbeatSec > 0 ? heartbeatSec : store.defaultTimeoutSec;

  let states: Map<string, PresenceState> | undefined;
  const rawState = params.get('state');
  if (rawState !== undefined && rawState !== '') {
    const parsed = parseJson(rawState);
    if (!parsed || !isPlainObject(parsed.value)) return fail(400, errorBodies.invalidJson);
    states = heartbeatStates(store, route.subKey, parsed.value, requestedChannels, groups);
  }
  store.heartbeat(route.subKey, uuid, store.resolve(route.subKey, requestedChannels, groups), timeoutSec, states);
  return ok({ message: 'OK', service: 'Presence', status: 200 });
}

/**
 * The heartbeat `state` is a map channel (or group) -> state, and the server stores `state[ch]` for `ch`
 * (notes §3.5). The official JS SDK's `setState({withHeartbeat:true})` sends the state un-keyed, so when
 * no key names a requested channel or group, the whole object is taken as the state of every channel.
 */
export function heartbeatStates(
  store: PresenceStore,
  subKey: string,
  value: PresenceState,
  channels: readonly string[],
  groups: readonly string[],
): Map<string, PresenceState> {
  const states = new Map<string, PresenceState>();
  const keys = Object.keys(value);
  if (keys.length === 0) return states;
  const keyed = keys.some((key) => channels.includes(key) || groups.includes(key));
  if (!keyed) {
    for (const channel of store.resolve(subKey, channels, groups)) states.set(channel, value);
    return states;
  }
  // Group entries first so an explicit per-channel entry wins over its group's.
  for (const group of groups) {
    const state = value[group];
    if (!isPlainObject(state)) continue;
    for (const channel of store.groupChannels(subKey, group)) states.set(channel, state);
  }
  for (const channel of channels) {
    const state = value[channel];
    if (isPlainObject(state)) states.set(channel, state);
  }
  return states;
}
