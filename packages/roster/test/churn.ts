// A scripted churn of presence against the emulator, shared by the exactness test (one roster)
// and the fleet test (a leader and its mirrors): random joins, leaves, timeouts and state changes
// from 1,000 users over 50 channels, some crowded past `announceMax` so they run in interval mode.
import type { PresenceClient } from '@presence/core';

export interface ChurnOptions {
  users: number;
  channels: number;
  /** The first `crowded` channels get many more users than the rest. */
  crowded: number;
  seed: number;
}

/** A small deterministic PRNG (mulberry32): the same seed replays the same churn. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Churn {
  readonly channels: string[];
  private readonly userIds: string[];
  private readonly random: () => number;
  /** Who we put where (the emulator is the truth; this only picks plausible next steps). */
  private readonly placed = new Map<string, Set<string>>();
  /** Users given a 1 s heartbeat: they time out at the next clock jump. */
  readonly doomed = new Set<string>();
  counts = { join: 0, leave: 0, timeout: 0, state: 0 };

  constructor(
    private readonly upstream: PresenceClient,
    private readonly options: ChurnOptions,
  ) {
    this.channels = Array.from({ length: options.channels }, (_, i) => `room-${String(i).padStart(2, '0')}`);
    this.userIds = Array.from({ length: options.users }, (_, i) => `user-${String(i).padStart(4, '0')}`);
    this.random = prng(options.seed);
    for (const channel of this.channels) this.placed.set(channel, new Set());
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  /** Crowded channels draw most of the joins. */
  private channelForJoin(): string {
    return this.random() < 0.6 ? this.channels[Math.floor(this.random() * this.options.crowded)]! : this.pick(this.channels);
  }

  private state(): Record<string, string> | undefined {
    const r = this.random();
    return r < 0.5 ? undefined : { mood: this.pick(['happy', 'busy', 'away']), n: String(Math.floor(r * 1000)) };
  }

  async populate(perUser = 1): Promise<void> {
    const work: Array<() => Promise<void>> = [];
    for (const userId of this.userIds) {
      for (let k = 0; k < perUser; k++) {
        const channel = this.channelForJoin();
        const state = this.state();
        work.push(() => this.join(userId, channel, state));
      }
    }
    await inBatches(work, 16);
  }

  private async join(userId: string, channel: string, state: Record<string, string> | undefined): Promise<void> {
    await this.upstream.heartbeat({ channels: [channel], heartbeat: 300, userId, ...(state ? { state: { [channel]: state } } : {}) });
    this.placed.get(channel)!.add(userId);
    this.counts.join++;
  }

  /** `steps` random changes, a few at a time. */
  async step(steps: number): Promise<void> {
    const work: Array<() => Promise<void>> = [];
    for (let i = 0; i < steps; i++) {
      const r = this.random();
      const channel = r < 0.5 ? this.channelForJoin() : this.pick(this.channels);
      const present = [...this.placed.get(channel)!].filter((u) => !this.doomed.has(u));
      if (r < 0.4 || present.length === 0) {
        const userId = this.pick(this.userIds);
        const state = this.state();
        work.push(() => this.join(userId, channel, state));
      } else if (r < 0.6) {
        const userId = this.pick(present);
        this.placed.get(channel)!.delete(userId);
        work.push(async () => {
          await this.upstream.leave({ channels: [channel], userId });
          this.counts.leave++;
        });
      } else if (r < 0.75) {
        const userId = this.pick(present);
        this.doomed.add(userId);
        this.placed.get(channel)!.delete(userId);
        // A 1 s heartbeat on this one channel: the next clock jump times the user out there.
        work.push(async () => {
          await this.upstream.heartbeat({ channels: [channel], heartbeat: 1, userId });
          this.counts.timeout++;
        });
      } else {
        const userId = this.pick(present);
        const state = { mood: this.pick(['happy', 'busy', 'away', 'gone']), n: String(Math.floor(this.random() * 1e6)) };
        work.push(async () => {
          await this.upstream.heartbeat({ channels: [channel], heartbeat: 300, userId, state: { [channel]: state } });
          this.counts.state++;
        });
      }
    }
    await inBatches(work, 8);
  }

  /** After a clock jump the doomed users are gone (their heartbeats on other channels remain). */
  forgetDoomed(): void {
    this.doomed.clear();
  }
}

async function inBatches(work: Array<() => Promise<void>>, size: number): Promise<void> {
  for (let i = 0; i < work.length; i += size) await Promise.all(work.slice(i, i + size).map((w) => w()));
}
