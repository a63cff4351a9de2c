// Medians and spreads of paired rounds. Every round is kept and reported: nothing here picks a best.

export const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low]! + (sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!) * (at - low);
};

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/**
 * One row of the table: `ours` against `baseline`, measured in the same rounds. `ratios[i]` is
 * round i's figure (for throughputs, ours / baseline of that round: above 1 means ours is faster).
 */
export interface Row {
  readonly section: string;
  readonly name: string;
  /** What the figures are, e.g. `req/s`, `ops/s`, `calls/key/window`. */
  readonly unit: string;
  readonly ours: readonly number[];
  readonly baseline: readonly number[];
  /** Per-round ratio; by default ours[i] / baseline[i]. */
  readonly ratios: readonly number[];
  /** What a good ratio is, when there is a goal, e.g. `≥ 0.9`. */
  readonly goal?: string;
  readonly note?: string;
}

export function pairedRow(fields: Omit<Row, 'ratios'> & { ratios?: readonly number[] }): Row {
  const ratios = fields.ratios ?? fields.ours.map((value, i) => value / fields.baseline[i]!);
  return { ...fields, ratios };
}

/**
 * Runs every side once per round, the order rotating each round so that no side always gets the
 * warmer (or the busier) machine; returns each side's figure per round.
 */
export async function interleave<K extends string>(sides: Record<K, () => Promise<number>>, rounds: number): Promise<Record<K, number[]>> {
  const names = Object.keys(sides) as K[];
  const out = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      out[name].push(await sides[name]());
    }
  }
  return out;
}

/** `requests` calls of `run`, `concurrency` at a time; returns calls per second. */
export async function throughput(run: () => Promise<unknown>, requests: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next++ < requests) await run();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return requests / ((performance.now() - started) / 1000);
}
