/**
 * A Fanout to kill: the local runtime in a process of its own, for the crash tests
 * (test/crash-points.test.ts, test/crash-load.test.ts, test/e2e/crash-local.test.ts), compiled
 * by test/support/crash.ts as `npm start` is (build.ts) or run with `node --import tsx`;
 * configured by the FANOUT_* variables as `npm start` is, plus:
 *
 *   CRASH_ENGINE      memory (default) | memory-persisted (the engine outlives the process, as AWS
 *                     does) | aws-fake | local
 *   CRASH_POINT       JSON `{ "detailType": "...", "data": { "<field>": "<value>" } }`: SIGKILL this
 *                     process just before it publishes the first event of that type whose `data`
 *                     has those values (runtime option `killBeforePublish`); absent = no crash point
 *   CRASH_TIME_SCALE  scales serverless.yml's rates and timeouts (default 0.1: reconciles every 6 s)
 *
 * Prints `CRASH-CHILD READY <url>` once it serves; SIGINT/SIGTERM stop it cleanly.
 */
import type { BusEntry } from '../../shared/events/publisher.ts';
import { startLocalRuntime, type LocalRuntimeOptions } from '../../shared/runtimes/local/runtime.ts';
import { testResolver } from './local.ts';

interface CrashPoint {
  detailType: string;
  data?: Record<string, string | number | boolean | null>;
}

function matcher(point: CrashPoint): (entry: BusEntry) => boolean {
  return (entry) => {
    if (entry.DetailType !== point.detailType) return false;
    const data = (JSON.parse(entry.Detail) as { data: Record<string, unknown> }).data;
    return Object.entries(point.data ?? {}).every(([k, v]) => data[k] === v);
  };
}

const kind = process.env.CRASH_ENGINE ?? 'memory';
const point = process.env.CRASH_POINT ? (JSON.parse(process.env.CRASH_POINT) as CrashPoint) : undefined;
const engine = (kind === 'memory-persisted' ? 'memory' : kind) as NonNullable<LocalRuntimeOptions['engine']>;

const runtime = await startLocalRuntime({
  engine,
  persistMemoryEngine: kind === 'memory-persisted',
  timeScale: Number(process.env.CRASH_TIME_SCALE ?? 0.1),
  // The platforms' ingest hosts resolve without DNS: tests touch nothing beyond loopback.
  resolveHost: testResolver,
  ...(point ? { killBeforePublish: matcher(point) } : {}),
});
process.stdout.write(`CRASH-CHILD READY ${runtime.url}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void runtime.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
