// `pnpm bench`: every section in its own child process, one after another, on the BUILT packages
// (no @presence/source condition here; the root script builds first). Prints one table: every row
// a ratio of two things measured side by side in the same rounds, with its median, its spread and
// every round. Writes the table, the machine and the date into ../BENCHMARKS.md between the
// `bench:begin`/`bench:end` markers (BENCH_WRITE=0 leaves the file alone). BENCH_ROUNDS (default 9).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { ROUNDS } from './lib/section.js';
import { median, quantile, type Row } from './lib/stats.js';

const SECTIONS: Array<{ file: string; env?: Record<string, string> }> = [
  { file: 'sections/origin.ts', env: { BENCH_SIGNED: '1' } },
  { file: 'sections/origin.ts', env: { BENCH_SIGNED: '0' } },
  { file: 'sections/cache.ts' },
  { file: 'sections/metrics.ts' },
  { file: 'sections/fleet.ts' },
  { file: 'sections/watch.ts' },
  // A hook: it reports a reason and no row until @presence/roster is on main.
  { file: 'sections/roster.ts' },
];

const core = import.meta.resolve('@presence/core');
if (!core.includes('/dist/')) throw new Error(`@presence/core resolves to ${core}, not to the build: run \`pnpm bench\` from the root (it builds first), without --conditions=@presence/source`);

async function runSection(file: string, env: Record<string, string> = {}): Promise<{ rows: Row[]; skipped?: string; seconds: number }> {
  const started = performance.now();
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let reply: { rows: Row[]; skipped?: string } | undefined;
  child.on('message', (message) => (reply = message as typeof reply));
  const [code] = await once(child, 'exit');
  if (code !== 0 || !reply) throw new Error(`bench section ${file} ${JSON.stringify(env)} failed (exit ${code})`);
  return { ...reply, seconds: (performance.now() - started) / 1000 };
}

const load = () => os.loadavg().map((n) => n.toFixed(1)).join(' / ');
const startedAt = new Date();
const loadBefore = load();
const rows: Row[] = [];
const skipped: string[] = [];
const timings: string[] = [];
for (const { file, env } of SECTIONS) {
  const label = `${file}${env ? ` ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`;
  process.stderr.write(`bench: ${label} …\n`);
  const result = await runSection(file, env);
  rows.push(...result.rows);
  if (result.skipped) skipped.push(result.skipped);
  timings.push(`${label} ${result.seconds.toFixed(0)} s`);
}
const seconds = (Date.now() - startedAt.getTime()) / 1000;

const figure = (value: number, unit: string): string =>
  unit === 'calls/key/window' || unit.startsWith('µs') ? value.toFixed(unit.startsWith('µs') ? 1 : 2) : Math.round(value).toLocaleString('en-US');
const ratio = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '—');
const lines = [
  '| # | row (ours / baseline) | ours, median | baseline, median | ratio, median | spread: quartiles (min–max) | goal | every round\'s ratio |',
  '|---|---|---|---|---|---|---|---|',
];
let section = '';
rows.forEach((row, i) => {
  if (row.section !== section) {
    section = row.section;
    lines.push(`| | **${section}** | | | | | | |`);
  }
  const finite = row.ratios.filter(Number.isFinite);
  lines.push([
    '',
    String(i + 1),
    `${row.name}${row.note ? ` (${row.note})` : ''}`,
    `${figure(median(row.ours), row.unit)} ${row.unit}`,
    `${figure(median(row.baseline), row.unit)} ${row.unit}`,
    `**${ratio(median(finite))}**`,
    `${ratio(quantile(finite, 0.25))}–${ratio(quantile(finite, 0.75))} (${ratio(Math.min(...finite))}–${ratio(Math.max(...finite))})`,
    row.goal ?? '',
    row.ratios.map(ratio).join(' '),
    '',
  ].join(' | ').trim());
});
const cpus = os.cpus();
const header = [
  `Measured ${startedAt.toISOString()} on ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}; built packages; ${ROUNDS} rounds per row (the metrics rows ${ROUNDS * 3} shorter ones; the fleet rows one cache window each).`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}. The whole run took ${seconds.toFixed(0)} s (${timings.join(', ')}).`,
];
const notMeasured = skipped.map((reason) => `- Not measured: ${reason}`);
const table = [...header, '', ...lines, ...(notMeasured.length ? ['', ...notMeasured] : [])].join('\n');
console.log(table);

if (process.env.BENCH_WRITE !== '0') {
  const path = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
  const text = readFileSync(path, 'utf8');
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  if (!text.includes(begin) || !text.includes(end)) throw new Error(`BENCHMARKS.md has no ${begin} … ${end} markers`);
  writeFileSync(path, `${text.slice(0, text.indexOf(begin) + begin.length)}\n${table}\n${text.slice(text.indexOf(end))}`);
  process.stderr.write('bench: BENCHMARKS.md updated\n');
}
