/**
 * Watches this process's event loop while a test runs, so a timing check can allow for what the
 * process itself could observe: on a busy machine a timer (a deadline, a sleep) fires late by as
 * much as the loop was held up, through no fault of the code under test.
 */
export interface LagProbe {
  /** The longest the loop has been held up so far, in ms, counting a hold-up still going on now. */
  readonly maxLagMs: number;
  /**
   * All hold-ups so far added up, in ms (a hold-up still going on included): what a bound on a
   * whole sequence of steps should allow for, since the process can be held up more than once.
   */
  readonly totalLagMs: number;
  /** Stops watching (the probe's timer is unref'd, so forgetting this never keeps a process alive). */
  stop(): void;
}

/**
 * Starts a probe: a timer every `intervalMs`, noting how late each tick ran. A deadline test then
 * asserts `elapsed < deadline + margin + probe.totalLagMs`: it still proves the deadline fired and
 * nothing hung, without demanding an idle CPU.
 */
export function startLagProbe(intervalMs = 5): LagProbe {
  let last = performance.now();
  let max = 0;
  let total = 0;
  let stopped = false;
  const late = (now: number): number => (stopped ? 0 : Math.max(0, now - last - intervalMs));
  const timer = setInterval(() => {
    const now = performance.now();
    const lateBy = late(now);
    max = Math.max(max, lateBy);
    total += lateBy;
    last = now;
  }, intervalMs);
  timer.unref();
  return {
    get maxLagMs() {
      // A tick that is overdue right now counts too: the timer under test may run before the probe's.
      return Math.max(max, late(performance.now()));
    },
    get totalLagMs() {
      return total + late(performance.now());
    },
    stop() {
      const lateBy = late(performance.now());
      max = Math.max(max, lateBy);
      total += lateBy;
      stopped = true;
      clearInterval(timer);
    },
  };
}
