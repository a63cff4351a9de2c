import { errorBodies } from './error-bodies.js';
import type { Reply } from './handle-presence.js';
import { splitList, type Route } from './parse-request.js';
import type { PresenceStore } from './presence-store.js';

/**
 * The channel-registry endpoints in the form the official SDK calls them (pubnub/src/core/endpoints/
 * channel_groups/*.ts): `?add=a,b`, `?remove=a,b`, a bare GET lists, `/remove` deletes the group,
 * and `/channel-group` alone lists groups. Bodies follow the SDK's `ServiceResponse` types.
 */
export function handleChannelGroup(
  store: PresenceStore,
  route: Extract<Route, { kind: 'channelGroup' }>,
  params: ReadonlyMap<string, string>,
): Reply {
  if (route.subKey === '') return { status: 400, body: errorBodies.invalidSubscribeKey };
  const okBody = JSON.stringify({ status: 200, message: 'OK', service: 'channel-registry', error: false });
  if (route.group === null) {
    return {
      status: 200,
      body: JSON.stringify({
        status: 200,
        payload: { groups: store.listGroups(route.subKey), sub_key: route.subKey },
        service: 'channel-registry',
        error: false,
      }),
    };
  }
  if (route.deleteGroup) {
    store.deleteGroup(route.subKey, route.group);
    return { status: 200, body: okBody };
  }
  const add = params.get('add');
  const remove = params.get('remove');
  if (add !== undefined || remove !== undefined) {
    if (add !== undefined) store.addChannelsToGroup(route.subKey, route.group, splitList(add));
    if (remove !== undefined) store.removeChannelsFromGroup(route.subKey, route.group, splitList(remove));
    return { status: 200, body: okBody };
  }
  return {
    status: 200,
    body: JSON.stringify({
      status: 200,
      payload: { channels: store.groupChannels(route.subKey, route.group), group: route.group },
      service: 'channel-registry',
      error: false,
    }),
  };
}
