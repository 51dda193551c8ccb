/**
 * Reads a V8 CPU profile (`.cpuprofile`: `node --cpu-prof`, or the job bench's `BENCH_JOB_CPU_PROF`)
 * and prints where the time went: self time by function and by source file (mapped back through
 * the bundle's source map when there is one), and inclusive time of the functions that matter.
 *
 *   npx tsx test/bench/cpuprofile.ts <file.cpuprofile> [--top 40] [--match <regex>]
 *
 * `--match` prints the inclusive time of every function whose name or file matches (e.g.
 * `'TsHub|RtmpFanout|sendBatch'`). A bench tool: never part of `npm test`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const maps = new Map<string, SourceMap | null>();
function sourceMapOf(url: string): SourceMap | null {
  if (!maps.has(url)) {
    let m: SourceMap | null = null;
    try {
      const path = url.startsWith('file://') ? fileURLToPath(url) : url;
      if (path && existsSync(`${path}.map`)) m = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')));
    } catch {
      m = null;
    }
    maps.set(url, m);
  }
  return maps.get(url) ?? null;
}

/** `file:line` of a frame, in the original source when the bundle has a map. */
function where(f: CallFrame): { file: string; line: number } {
  if (!f.url) return { file: `(${f.functionName || 'native'})`, line: 0 };
  const m = sourceMapOf(f.url);
  if (m && f.lineNumber >= 0) {
    const e = m.findEntry(f.lineNumber, f.columnNumber) as { originalSource?: string; originalLine?: number };
    if (e.originalSource) return { file: e.originalSource.replace(/^.*?\/(shared|services|test|node_modules|events|contracts)\//, '$1/'), line: (e.originalLine ?? 0) + 1 };
  }
  return { file: f.url.replace(/^.*\/node_modules\//, 'node_modules/').replace(/^file:\/\/.*\/\.build\//, '.build/'), line: f.lineNumber + 1 };
}

export function analyse(p: Profile, top: number, match: RegExp | null): string[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Self time per node from the samples (µs), not hitCount × interval: intervals vary under load.
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const dt = deltas[i + 1] ?? deltas[i] ?? 0;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + dt);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = new Set(['(idle)', '(program)', '(garbage collector)']);
  const key = (n: ProfileNode): string => {
    const w = where(n.callFrame);
    return `${n.callFrame.functionName || '(anonymous)'} ${w.file}:${w.line}`;
  };
  const selfBy = new Map<string, number>();
  const fileBy = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    selfBy.set(key(n), (selfBy.get(key(n)) ?? 0) + us);
    const f = idle.has(n.callFrame.functionName) ? n.callFrame.functionName : where(n.callFrame).file;
    fileBy.set(f, (fileBy.get(f) ?? 0) + us);
  }
  // Inclusive: each sample counts once for every distinct function on its stack.
  const incl = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + us);
    }
  }
  const seconds = (p.endTime - p.startTime) / 1e6;
  const busy = total - (selfBy.get(`(idle) (idle):0`) ?? 0);
  const pct = (us: number): string => `${((us / 1e6 / seconds) * 100).toFixed(3).padStart(7)} %`;
  const out: string[] = [`${seconds.toFixed(1)} s profiled, ${samples.length} samples; busy (not idle) ${pct(busy)} of a core`];
  const list = (title: string, m: Map<string, number>, n: number, filter: (k: string) => boolean = () => true): void => {
    out.push(`\n${title}`);
    for (const [k, us] of [...m.entries()]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n))
      out.push(`${pct(us)}  ${k}`);
  };
  list('self time by source file (% of a core)', fileBy, top);
  list('self time by function', selfBy, top);
  list('inclusive time by function', incl, top, (k) => !k.startsWith('(root)'));
  if (match) list(`inclusive time, matching ${match}`, incl, 200, (k) => match.test(k));
  // Entry points: each sample charged to the outermost frame of the project's own code on its
  // stack (what the event loop called into: a stream's data handler, a timer, a promise job), or
  // to the outermost frame below the root when there is none (Node internals, GC, the profiler).
  const entry = new Map<string, number>();
  const own = /^(shared|services|test|events|contracts)\//;
  for (const [id, us] of self) {
    const stack: ProfileNode[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur)!);
    stack.reverse(); // root first
    const mine = stack.find((n) => own.test(where(n.callFrame).file));
    const k = mine ? key(mine) : stack[1] ? `${key(stack[1])} (no own code)` : key(stack[0]!);
    entry.set(k, (entry.get(k) ?? 0) + us);
  }
  list('by entry point (the outermost own function on the stack)', entry, top, (k) => !k.startsWith('(idle)'));
  return out;
}

if (process.argv[1]?.endsWith('cpuprofile.ts')) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--top' && args[args.indexOf(a) - 1] !== '--match');
  if (!file) {
    console.error('usage: npx tsx test/bench/cpuprofile.ts <file.cpuprofile> [--top 40] [--match <regex>]');
    process.exit(2);
  }
  const ti = args.indexOf('--top');
  const mi = args.indexOf('--match');
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  console.log(analyse(p, ti >= 0 ? Number(args[ti + 1]) : 40, mi >= 0 ? new RegExp(args[mi + 1]!) : null).join('\n'));
}
