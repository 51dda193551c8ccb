/**
 * The Lambda side of the local bus: each function's handler, loaded once (and again after a
 * failed load), the context Lambda passes (names, ARN, remaining time before the scaled timeout),
 * and the timeout itself.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FunctionRef, LambdaContextLike, LambdaHandler } from './types.ts';

export class TimeoutError extends Error {
  constructor(fn: string, ms: number) {
    super(`function ${fn} timed out after ${Math.round(ms)} ms`);
    this.name = 'TimeoutError';
  }
}

export interface LambdaFunctionsOptions {
  resolveHandler: (fn: FunctionRef) => Promise<LambdaHandler>;
  /** serverless.yml's service and stage: Lambda names functions `<service>-<stage>-<name>`. */
  service: string;
  stage: string;
  account: string;
  region: string;
}

export class LambdaFunctions {
  private readonly handlers = new Map<string, Promise<LambdaHandler>>();

  constructor(private readonly o: LambdaFunctionsOptions) {}

  handlerFor(fn: FunctionRef): Promise<LambdaHandler> {
    let handler = this.handlers.get(fn.name);
    if (!handler) {
      handler = Promise.resolve().then(() => this.o.resolveHandler({ name: fn.name, handler: fn.handler }));
      this.handlers.set(fn.name, handler);
      // A handler that failed to load is retried on the next batch (e.g. after fixing the file).
      handler.catch(() => this.handlers.delete(fn.name));
    }
    return handler;
  }

  functionName(fn: { name: string }): string {
    return `${this.o.service}-${this.o.stage}-${fn.name}`;
  }

  /** The context of one invocation whose (scaled) timeout falls at `deadline` (performance.now()). */
  context(fn: { name: string }, deadline: number): LambdaContextLike {
    const functionName = this.functionName(fn);
    return {
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.o.region}:${this.o.account}:function:${functionName}`,
      memoryLimitInMB: '512',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: `local/${fn.name}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, Math.round(deadline - performance.now())),
    };
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, fn: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(fn, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
