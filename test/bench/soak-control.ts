/**
 * The soak's control plane alone, without media: `npx tsx test/bench/soak-control.ts [seconds]`
 * (default 720). The runtime as the soak runs it (database on disk unless `BENCH_SOAK_DB=memory`),
 * with the memory engine instead of FFmpeg: the same 20 passthrough destinations and one
 * transcoded one, running, and the same traffic inside Fanout (the scheduled reconciles, outbox
 * relay, cost-tracker and notifier ticks, each once a minute, and what they write). It samples
 * every `BENCH_SOAK_INTERVAL_SECONDS` (default 30) the RSS, V8 heap, external memory, open
 * descriptors, and the LevelDB iterators and snapshots the database holds open, and prints the
 * slopes after the warm-up (as soak.ts). It needs no media lock: nothing but this process runs.
 *
 * `BENCH_SOAK_UNPATCHED=1` takes away the iterators' `return` again once the runtime is up
 * (closeDynaliteIterators, shared/runtimes/local/dynalite.ts): dynalite 4.0.0 as it ships, the
 * "before" of ADR 0029. Diagnostics only; the last line is `BENCH_JSON {...}`.
 */
import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { countLevelResources, unpatchDynaliteIterators } from '../support/level-resources.ts';
import { eventually, startTestRuntime } from '../support/local.ts';
import { rssOf } from './proc.ts';
import { slope } from './soak.ts';

const SECONDS = Number(process.argv[2] ?? 720);
const INTERVAL_MS = Number(process.env.BENCH_SOAK_INTERVAL_SECONDS ?? 30) * 1000;
const DB = process.env.BENCH_SOAK_DB === 'memory' ? 'memory' : 'disk';
const UNPATCHED = process.env.BENCH_SOAK_UNPATCHED === '1';
/** `BENCH_SOAK_TIME_SCALE` (default 1): scales serverless.yml's schedules, e.g. 0.1 runs each minute tick every 6 s (ten hours of ticks in one). */
const TIME_SCALE = Number(process.env.BENCH_SOAK_TIME_SCALE ?? 1);
const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
const log = (msg: string): void => console.log(`[soak-control ${new Date().toISOString().slice(11, 19)}] ${msg}`);

// The database's open resources (iterators, snapshots) and how many were ever opened.
const level = countLevelResources();

const rt = await startTestRuntime({ FANOUT_LOG_LEVEL: 'WARN', FANOUT_RATE_LIMIT_PER_MINUTE: '1000000' }, { engine: 'memory', inMemory: DB === 'memory', timeScale: TIME_SCALE });
try {
  if (UNPATCHED) {
    unpatchDynaliteIterators();
  }
  const ids: string[] = [];
  for (let i = 0; i < 21; i++) {
    const preset = i < 20 ? 'passthrough' : 'generic-720p30';
    const r = await rt.api('POST', '/api/destinations', { body: { name: `soak ${i}`, platform: 'custom', rtmpUrl: 'rtmp://127.0.0.1:1935/live', streamKey: `soak-${i}`, preset } });
    if (r.status !== 201) throw new Error(`create soak ${i}: ${r.status} ${r.text}`);
    ids.push((r.json as { destinationId: string }).destinationId);
  }
  for (const id of ids) await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json?.status === 'idle', { timeoutMs: 30_000, what: `${id} idle` });
  for (const id of ids) await rt.api('POST', `/api/destinations/${id}/start`);
  for (const id of ids) await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json?.status === 'running', { timeoutMs: 60_000, what: `${id} running` });
  log(`21 destinations running (memory engine, database ${DB}${UNPATCHED ? ', iterators unpatched' : ''}, time scale ${TIME_SCALE}); sampling every ${INTERVAL_MS / 1000} s for ${SECONDS} s`);

  const samples: { t: number; rssMiB: number; heapMiB: number; externalMiB: number; fds: number; open: number; opened: number }[] = [];
  const t0 = performance.now();
  const take = (): void => {
    const m = process.memoryUsage();
    const s = {
      t: Math.round((performance.now() - t0) / 1000),
      rssMiB: mib(rssOf(process.pid) ?? 0),
      heapMiB: mib(m.heapUsed),
      externalMiB: mib(m.external),
      fds: readdirSync('/proc/self/fd').length,
      open: level.open(),
      opened: level.opened(),
    };
    samples.push(s);
    log(`t=${String(s.t).padStart(5)} s  RSS ${s.rssMiB} MiB  heap ${s.heapMiB} MiB  external ${s.externalMiB} MiB  fds ${s.fds}  level resources open ${s.open} (opened ${s.opened})`);
  };
  take();
  while (performance.now() - t0 < SECONDS * 1000) {
    await new Promise((r) => setTimeout(r, Math.min(INTERVAL_MS, SECONDS * 1000 - (performance.now() - t0))));
    take();
  }
  const warmup = Math.min(300, Math.round(SECONDS / 4));
  const steady = samples.filter((s) => s.t >= warmup);
  const perHour = (y: (s: (typeof samples)[number]) => number): number | null => {
    const m = slope(steady.map((s) => ({ x: s.t / 3600, y: y(s) })));
    return m === null ? null : Math.round(m * 10) / 10;
  };
  const figures = {
    db: DB,
    unpatched: UNPATCHED,
    mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null,
    timeScale: TIME_SCALE,
    seconds: SECONDS,
    warmupSeconds: warmup,
    rssSlopeMiBPerHour: perHour((s) => s.rssMiB),
    heapSlopeMiBPerHour: perHour((s) => s.heapMiB),
    externalSlopeMiBPerHour: perHour((s) => s.externalMiB),
    levelResourcesOpenPerHour: perHour((s) => s.open),
    levelResourcesOpenedPerHour: perHour((s) => s.opened),
    samples,
  };
  log(
    `RSS ${samples[0]?.rssMiB} → ${samples.at(-1)?.rssMiB} MiB, slope ${figures.rssSlopeMiBPerHour} MiB/h; heap ${figures.heapSlopeMiBPerHour} MiB/h; external ${figures.externalSlopeMiBPerHour} MiB/h; level resources left open ${figures.levelResourcesOpenPerHour}/h of ${figures.levelResourcesOpenedPerHour}/h opened`,
  );
  console.log(`BENCH_JSON ${JSON.stringify({ soakControl: figures })}`);
} finally {
  await rt.close();
}
