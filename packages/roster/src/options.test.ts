import { PresenceConfigurationError } from '@presence/core';
import { describe, expect, it } from 'vitest';
import { resolveRosterOptions, roster } from './roster.js';

describe('roster options: the singular names a newcomer tries', () => {
  it('roster({ channel }) is told to pass channels, an array, naming the option', () => {
    let error: unknown;
    try {
      roster({ channel: 'lobby' } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PresenceConfigurationError);
    expect((error as PresenceConfigurationError).field).toBe('roster.channel');
    expect((error as Error).message).toBe("roster has no channel option; pass channels, an array of names, e.g. roster({ channels: ['lobby'] }).");
  });

  it('channelGroup too, even beside valid channels, and under the name of the factory that resolves them (redisRoster)', () => {
    expect(() => roster({ channels: ['lobby'], channelGroup: 'staff' } as never)).toThrow(
      "roster has no channelGroup option; pass channelGroups, an array of names, e.g. roster({ channelGroups: ['lobby'] }).",
    );
    expect(() => resolveRosterOptions('redisRoster', { channel: 'lobby' } as never)).toThrow(/^redisRoster has no channel option/);
  });

  it('valid options still resolve', () => {
    expect(resolveRosterOptions('roster', { channels: ['lobby'] }).channels).toEqual(['lobby']);
  });
});
