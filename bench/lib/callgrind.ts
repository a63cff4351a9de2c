// Reading callgrind dumps (the format: https://valgrind.org/docs/manual/cl-format.html).

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

