/** Test helpers: read Prometheus exposition text into comparable samples. */

export type Labels = Record<string, string>;

/** A canonical series key: name plus labels sorted by name. */
export function seriesKey(name: string, labels: Labels = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((label) => `${label}="${labels[label]}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

/** Every sample line (comments skipped); throws on a line that is neither. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Labels = {};
    for (const [, label, value] of (match[2] ?? '').matchAll(LABEL)) labels[label!] = value!;
    const raw = match[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** Samples as a key → value map; fails on a duplicate series. */
export function sampleMap(samples: readonly Sample[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const { name, labels, value } of samples) {
    const key = seriesKey(name, labels);
    if (map.has(key)) throw new Error(`duplicate series ${key}`);
    map.set(key, value);
  }
  return map;
}
