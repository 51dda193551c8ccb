/**
 * Test support: capture every command the AWS engine sends and check it against the official
 * service models in ../shared/aws-models (beside the checkout; never copied into the project).
 *
 * Two capture paths, because aws-sdk-client-mock replaces `Client#send` (so no middleware runs):
 *   - `capturedFromMock(stub, service)`: the commands a mocked client received (aws-fake.ts);
 *   - `captureWithMiddleware(client, service, into)`: a real client's commands, from an
 *     `initialize` middleware (tests that drive the SDK's own serialisation and retries).
 * The operation name is the command's class name without `Command` (`CreateChannelCommand` →
 * `CreateChannel`), which is the model's operation name.
 *
 * When the models folder is absent (a user's clone), `modelsOrSkip(t)` skips the calling test
 * with a message saying so; nothing else depends on the models.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AwsStub } from 'aws-sdk-client-mock';
import { formatProblem, ModelValidator, type ValidationProblem } from './model-validator.ts';

export type ServiceName = 'medialive' | 'mediaconnect' | 'mediapackagev2' | 'sns' | 'cloudwatch';
export const SERVICES: readonly ServiceName[] = ['medialive', 'mediaconnect', 'mediapackagev2', 'sns', 'cloudwatch'];

export interface CapturedRequest {
  service: ServiceName;
  operation: string;
  input: unknown;
  /** Global order of the call (sinon's call id, or a counter for middleware captures). */
  seq: number;
}

/** The repository root (this file is shared/engines/aws/request-capture.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where the official models sit: `../shared/aws-models` relative to the repository root. */
export const MODELS_DIR = join(REPO_ROOT, '..', 'shared', 'aws-models');

export type Models = Record<ServiceName, ModelValidator>;

let cached: Models | null | undefined;

/** The validators for every service, or null when the models folder (or a model in it) is absent. */
export function loadModels(dir: string = MODELS_DIR): Models | null {
  if (dir === MODELS_DIR && cached !== undefined) return cached;
  const files = Object.fromEntries(SERVICES.map((s) => [s, join(dir, `${s}.service-2.json`)])) as Record<ServiceName, string>;
  const models = Object.values(files).every((f) => existsSync(f)) ? (Object.fromEntries(SERVICES.map((s) => [s, ModelValidator.fromFile(files[s])])) as Models) : null;
  if (dir === MODELS_DIR) cached = models;
  return models;
}

export const MODELS_ABSENT_MESSAGE = `AWS service models not found at ${MODELS_DIR} (they sit beside the checkout in CI and on the maintainers' machines); request validation against the official models is skipped`;

/** The models, or null after marking the test skipped with a message that says why. */
export function modelsOrSkip(t: TestContext): Models | null {
  const models = loadModels();
  if (!models) t.skip(MODELS_ABSENT_MESSAGE);
  return models;
}

/** The model operation a command instance stands for. */
export function operationOf(command: unknown): string {
  const name = (command as { constructor?: { name?: string } })?.constructor?.name ?? '';
  if (!name.endsWith('Command') || name === 'Command') throw new Error(`cannot tell the operation of ${name || String(command)}`);
  return name.slice(0, -'Command'.length);
}

/** Every command a client mocked with aws-sdk-client-mock has received so far. */
export function capturedFromMock(stub: AwsStub<any, any, any>, service: ServiceName): CapturedRequest[] {
  return stub.calls().map((call) => {
    const command = call.args[0] as { input: unknown };
    return { service, operation: operationOf(command), input: command.input, seq: (call as unknown as { callId: number }).callId };
  });
}

let middlewareSeq = 0;

/** Captures every command a real SDK v3 client sends (before serialisation and retries) into `into`. */
export function captureWithMiddleware(client: { middlewareStack: { add(...args: any[]): void } }, service: ServiceName, into: CapturedRequest[]): void {
  client.middlewareStack.add(
    (next: (args: { input: unknown }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: unknown }) => {
      into.push({ service, operation: (context.commandName ?? 'UnknownCommand').replace(/Command$/, ''), input: structuredCloneSafe(args.input), seq: ++middlewareSeq });
      return next(args);
    },
    { step: 'initialize', name: 'fanoutRequestCapture' },
  );
}

function structuredCloneSafe(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

/** Problems of every captured request, each prefixed with `service operation #n`. */
export function problemsOf(captured: readonly CapturedRequest[], models: Models): string[] {
  const out: string[] = [];
  captured.forEach((c, i) => {
    const validator = models[c.service];
    if (!validator.hasOperation(c.operation)) {
      out.push(`#${i} ${c.service} ${c.operation}: the model has no such operation`);
      return;
    }
    const problems: ValidationProblem[] = validator.validate(c.operation, c.input);
    for (const p of problems) out.push(`#${i} ${c.service} ${c.operation} ${formatProblem(p)}`);
  });
  return out;
}

/**
 * Fails (AssertionError listing every problem) unless every captured request is valid against
 * the official models. Call `modelsOrSkip(t)` first where the models may be absent.
 */
export function expectAllValid(captured: readonly CapturedRequest[], models: Models | null = loadModels()): void {
  if (!models) throw new Error(MODELS_ABSENT_MESSAGE);
  assert.ok(captured.length > 0, 'no requests were captured (is the capture wired to the clients the engine uses?)');
  const problems = problemsOf(captured, models);
  assert.deepEqual(problems, [], `requests the service would reject for their shape:\n${problems.join('\n')}`);
}
