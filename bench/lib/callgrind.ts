// Taking and reading callgrind dumps (the format: https://valgrind.org/docs/manual/cl-format.html).
import { execFile } from 'node:child_process';
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Has callgrind dump the counters of process `pid` (started with `--callgrind-out-file=<dir>/callgrind.%p`,
 * so each dump is a new `callgrind.<pid>.<n>` in `dir`) and reads that dump: its text, its total
 * instructions since the last zeroing, and its path (the caller keeps or removes it).
 */
export async function dumpCounters(pid: number, dir: string): Promise<{ file: string; text: string; total: number }> {
  const prefix = `callgrind.${pid}.`;
  const before = new Set((await readdir(dir)).filter((name) => name.startsWith(prefix)));
  await run('callgrind_control', ['-d', String(pid)]);
  const dumped = (await readdir(dir)).filter((name) => name.startsWith(prefix) && !before.has(name));
  if (dumped.length !== 1) throw new Error(`callgrind_control -d ${pid} wrote ${dumped.length} new dumps in ${dir}, not one`);
  const file = path.join(dir, dumped[0]!);
  const text = await readFile(file, 'utf8');
  const totals = /^(?:totals|summary): (\d+)/m.exec(text);
  if (!totals) throw new Error(`the callgrind dump ${file} has no totals line`);
  return { file, text, total: Number(totals[1]) };
}

/**
 * The garbage collector's share of a dump: the self cost of V8's heap functions (scavenges, marking,
 * sweeping, compaction, on any thread). A major GC lands in whichever window it happens to fall
 * in, so it is reported apart from the rest, which is steadier from window to window.
 */
export const GC_FUNCTION = /v8::internal::(?:Heap::|Scavenge|Scavenger|MarkCompact|Marking|ConcurrentMarking|MinorMarkCompact|Sweeper|Evacuat|RecordMigratedSlot|MemoryAllocator|MemoryChunk|PagedSpace|SemiSpace|NewSpace|LargeObjectSpace|GlobalHandles|IncrementalMarking|Worklist|BodyDescriptorBase::Iterate|ObjectStats|ArrayBufferSweeper|RememberedSet|SlotSet|TypedSlot)|heap::base::|cppgc::/;

/** V8's optimizing compilers: how much a window spent (re)compiling hot code rather than running it. */
export const JIT_FUNCTION = /v8::internal::(?:compiler::|maglev::|Compiler::|OptimizingCompileDispatcher|TurbofanCompilationJob|baseline::)/;

/** The self cost of the functions whose names match `pattern` (default: the garbage collector's). */
export function gcInstructions(dump: string, pattern: RegExp = GC_FUNCTION): number {
  const names = new Map<string, string>();
  let gc = false;
  let skipNext = false;
  let total = 0;
  for (const line of dump.split('\n')) {
    if (line.startsWith('cfn=')) {
      // A called function's name can be given here first; later `fn=(id)` lines refer to it.
      const match = /^cfn=\((\d+)\) (.*)$/.exec(line);
      if (match) names.set(match[1]!, match[2]!);
    } else if (line.startsWith('fn=')) {
      const match = /^fn=\((\d+)\)(?: (.*))?$/.exec(line);
      const name = match ? (match[2] ?? names.get(match[1]!) ?? '') : line.slice(3);
      if (match?.[2] !== undefined) names.set(match[1]!, match[2]);
      gc = pattern.test(name);
    } else if (line.startsWith('calls=')) {
      skipNext = true; // the next cost line is the call's inclusive cost, not this function's own
    } else if (/^[0-9+*-]/.test(line)) {
      if (skipNext) skipNext = false;
      else if (gc) total += Number(line.split(' ')[1] ?? 0);
    }
  }
  return total;
}


/** A window's instructions since the counters were last zeroed: all of them, and the self cost of the garbage collector and of V8's optimizing compilers among them. */
export interface WindowInstructions {
  all: number;
  gc: number;
  jit: number;
}

/**
 * Dumps process `pid`'s counters (as dumpCounters), reads the window's instructions from the dump,
 * then moves the dump to `keepAs` (a path, for callgrind_annotate) or, without one, removes it.
 */
export async function dumpWindow(pid: number, dir: string, keepAs?: string): Promise<WindowInstructions> {
  const { file, text, total } = await dumpCounters(pid, dir);
  if (keepAs) await rename(file, keepAs);
  else await rm(file);
  return { all: total, gc: gcInstructions(text), jit: gcInstructions(text, JIT_FUNCTION) };
}
