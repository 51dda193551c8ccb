/**
 * Scheduled functions of the local bus (`schedule: rate(...)` events): each runs every (scaled)
 * rate, never twice at once (a run still going when the next is due is skipped, with a warning),
 * with the event EventBridge Scheduler would send (or the schedule's constant `input`), under the
 * function's timeout; `run` runs one now (the runtime's start-up reconciles, tests).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ScheduledFunctionWiring } from '../serverless-config.ts';
import { isoSeconds } from './event-bridge.ts';
import { withTimeout, type LambdaFunctions } from './lambda.ts';
import type { BusLogger } from './types.ts';

export interface SchedulerOptions {
  functions: ScheduledFunctionWiring[];
  lambda: LambdaFunctions;
  log: BusLogger;
  clock: () => number;
  account: string;
  region: string;
  scaled: (seconds: number) => number;
  /** Runs in flight (the bus's drain and stop wait for them). */
  inFlight: Set<Promise<void>>;
  changed: () => void;
}

export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly scheduledRunning = new Set<string>();

  constructor(private readonly o: SchedulerOptions) {}

  /** Whether any scheduled run is executing. */
  get busy(): boolean {
    return this.scheduledRunning.size > 0;
  }

  /** Starts every function's timer. */
  start(): void {
    for (const fn of this.o.functions) {
      const timer = setInterval(() => {
        if (this.scheduledRunning.has(fn.name)) {
          this.o.log.warn('scheduled run skipped: the previous one is still running', { function: fn.name });
          return;
        }
        this.run(fn.name).catch(() => undefined); // run logs its failures
      }, this.o.scaled(fn.rateSeconds));
      this.timers.push(timer);
    }
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  /** Runs a scheduled function now, with the event EventBridge Scheduler would send. Resolves to its result. */
  async run(name: string): Promise<unknown> {
    const fn = this.o.functions.find((f) => f.name === name);
    if (!fn) throw new Error(`no scheduled function ${name}; scheduled: ${this.o.functions.map((f) => f.name).join(', ')}`);
    const event =
      fn.input !== undefined
        ? structuredClone(fn.input)
        : {
            version: '0',
            id: randomUUID(),
            'detail-type': 'Scheduled Event',
            source: 'aws.events',
            account: this.o.account,
            time: isoSeconds(this.o.clock()),
            region: this.o.region,
            resources: [`arn:aws:events:${this.o.region}:${this.o.account}:rule/${this.o.lambda.functionName(fn)}-schedule`],
            detail: {},
          };
    const timeoutMs = this.o.scaled(fn.timeoutSeconds);
    const started = performance.now();
    this.scheduledRunning.add(fn.name);
    const run = (async () => {
      try {
        const handler = await this.o.lambda.handlerFor(fn);
        return await withTimeout(
          Promise.resolve().then(() => handler(event, this.o.lambda.context(fn, started + timeoutMs))),
          timeoutMs,
          fn.name,
        );
      } catch (err) {
        this.o.log.error('scheduled run failed', { function: fn.name, error: (err as Error)?.message ?? String(err) });
        throw err;
      }
    })();
    // Tracked like a batch, so stop() and drain() wait for it.
    const tracked = run.then(
      () => undefined,
      () => undefined,
    );
    this.o.inFlight.add(tracked);
    void tracked.then(() => {
      this.o.inFlight.delete(tracked);
      this.scheduledRunning.delete(fn.name);
      this.o.changed();
    });
    return run;
  }
}
