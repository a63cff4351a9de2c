import { describe, expect, it } from 'vitest';
import { startLagProbe } from './lag-probe.js';

const blockFor = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('startLagProbe', () => {
  it('sees a hold-up of the event loop, even one still going on when it is read', () => {
    const probe = startLagProbe();
    try {
      blockFor(60);
      expect(probe.maxLagMs).toBeGreaterThanOrEqual(50);
    } finally {
      probe.stop();
    }
  });

  it('keeps the longest hold-up it saw, and stops growing once stopped', async () => {
    const probe = startLagProbe();
    blockFor(40);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const seen = probe.maxLagMs;
    expect(seen).toBeGreaterThanOrEqual(30);
    blockFor(40);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(probe.totalLagMs).toBeGreaterThanOrEqual(60); // both hold-ups, added up
    probe.stop();
    const stoppedAt = probe.maxLagMs;
    const totalAt = probe.totalLagMs;
    blockFor(80);
    expect(probe.maxLagMs).toBe(stoppedAt);
    expect(probe.totalLagMs).toBe(totalAt);
  });
});
