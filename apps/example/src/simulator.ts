import type { JsonValue, PresenceClient } from '@presence/core';

const USERS = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'radia', 'alan', 'frances', 'donald', 'edsger'];
const DEFAULT_ROOMS = ['lobby', 'engineering', 'random'];
const MOODS = ['focused', 'in a meeting', 'away', 'coding', 'reviewing'];

export interface SimulatorOptions {
  /** Milliseconds between simulated actions. */
  tickMs?: number;
  /** Seconds a simulated user stays present without another heartbeat. */
  heartbeatSec?: number;
  /** The rooms they use. */
  rooms?: readonly string[];
  random?: () => number;
}

export interface Simulator {
  readonly users: readonly string[];
  readonly rooms: readonly string[];
  stop(): Promise<void>;
}

/**
 * Simulated users of a chat product: they join rooms with a heartbeat, change their state and
 * leave over time, through their own presence client (as other services would), so the example
 * always has someone online.
 */
export async function startSimulator(presence: PresenceClient<JsonValue>, options: SimulatorOptions = {}): Promise<Simulator> {
  const tickMs = options.tickMs ?? 1000;
  const heartbeatSec = options.heartbeatSec ?? 60;
  const random = options.random ?? Math.random;
  const allRooms = options.rooms?.length ? options.rooms : DEFAULT_ROOMS;
  const lobby = allRooms[0]!;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const joined = new Map<string, Set<string>>(USERS.map((user) => [user, new Set<string>()]));
  let inflight: Promise<unknown> = Promise.resolve();

  const join = async (user: string, room: string) => {
    await presence.heartbeat({ channels: [room], userId: user, heartbeat: heartbeatSec, state: { [room]: { mood: pick(MOODS), since: Date.now() } } });
    joined.get(user)!.add(room);
  };

  // Seed: everyone is somewhere, and the first room (the lobby) is never empty.
  await Promise.all(USERS.map((user, i) => join(user, i % 2 === 0 ? lobby : pick(allRooms))));

  const act = async () => {
    const user = pick(USERS);
    const rooms = joined.get(user)!;
    const roll = random();
    if (roll < 0.4 || rooms.size === 0) return join(user, pick(allRooms));
    const room = pick([...rooms]);
    if (roll < 0.75) {
      await presence.setPresenceState({ channels: [room], userId: user, state: { mood: pick(MOODS), since: Date.now() } });
      return;
    }
    if (room === lobby && user === USERS[0]) return join(user, room); // someone stays in the lobby
    // Most leave; some just go quiet (a closed laptop) and time out after heartbeatSec.
    if (roll < 0.92) await presence.leave({ channels: [room], userId: user });
    rooms.delete(room);
  };

  // Heartbeats keep the simulated users from timing out, as their apps would.
  const refresh = async () => {
    await Promise.all([...joined].flatMap(([user, rooms]) => [...rooms].map((room) => presence.heartbeat({ channels: [room], userId: user, heartbeat: heartbeatSec }))));
  };

  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    inflight = Promise.all([act(), ticks % Math.max(1, Math.floor((heartbeatSec * 1000) / tickMs / 3)) === 0 ? refresh() : undefined]).catch(() => {
      // A failed simulated action is not the service's problem; the next tick tries again.
    });
  }, tickMs);
  timer.unref();

  return {
    users: USERS,
    rooms: allRooms,
    async stop() {
      clearInterval(timer);
      await inflight;
    },
  };
}
