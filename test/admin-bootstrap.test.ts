/**
 * The first admin token on AWS: the adminBootstrap Lambda handler, invoked as `serverless invoke`
 * would (a plain JSON event), on dynalite with the tables from serverless.yml. It makes a token
 * only when no admin exists (or on an explicit recovery), stores only the hash, returns the token
 * once, never logs it, and the token it returns opens the API's admin routes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { apiAuthFor } from '../shared/auth/api-auth.ts';
import { hashToken, TokenStore } from '../shared/auth/tokens.ts';
import { loadConfig, setConfig } from '../shared/config/index.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { destinationLambdas } from '../shared/runtimes/aws/destination.ts';
import { ensureTables, startDynalite, type EmbeddedDynamo } from '../shared/runtimes/local/dynalite.ts';
import { loadServerlessConfig } from '../shared/runtimes/local/serverless-config.ts';
import { LocalKeyFileCipher } from '../shared/secrets/cipher.ts';
import { createDocumentClient, createDynamoClient } from '../shared/store/dynamo.ts';
import { httpEvent as lambdaHttpEvent, lambdaContext } from './support/lambda.ts';

let db: EmbeddedDynamo;
let dir: string;
let tokens: TokenStore;
let lambdas: ReturnType<typeof destinationLambdas>;
const logs: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fanout-bootstrap-'));
  const wiring = loadServerlessConfig({ stage: 'dev' });
  db = await startDynalite(undefined);
  const cfg = loadConfig({ ...wiring.environment, FANOUT_RUNTIME: 'aws', FANOUT_LOG_LEVEL: 'INFO', FANOUT_DYNAMODB_ENDPOINT: db.endpoint });
  setConfig(cfg);
  const dynamo = createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint });
  await ensureTables(dynamo, wiring.tables);
  const doc = createDocumentClient(dynamo);
  // The destination service's Lambda entries over dynalite (EventBridge and KMS cannot run here).
  const deps = { config: cfg, dynamo, doc, publisher: { publish: async () => {} }, cipher: LocalKeyFileCipher.open(join(dir, 'k.key')), auth: apiAuthFor({ doc }, cfg), log: createLogger('destination') };
  lambdas = destinationLambdas(() => deps);
  tokens = new TokenStore(doc, wiring.environment.FANOUT_TABLE_TOKENS!);
});

after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `fn` with everything written to stdout/stderr captured into `logs`. */
async function capturing<T>(fn: () => Promise<T>): Promise<T> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const grab = (chunk: unknown) => (logs.push(String(chunk)), true);
  process.stdout.write = grab as typeof process.stdout.write;
  process.stderr.write = grab as typeof process.stderr.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

function httpEvent(method: string, path: string, token: string): APIGatewayProxyEventV2 {
  return lambdaHttpEvent(method, path, { token });
}

test('adminBootstrap: the first invoke returns an admin token once; later invokes make none unless recovering', async () => {
  const handler = lambdas.adminBootstrap;
  assert.equal(await tokens.hasAdmin(), false);

  const first = await capturing(() => handler({}));
  assert.equal(first.created, true);
  if (!first.created) return;
  assert.match(first.token, /^fo_[A-Za-z0-9_-]{43}$/);
  const stored = await tokens.list();
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.tokenHash, hashToken(first.token), 'only the hash is stored');
  assert.equal(stored[0]!.role, 'admin');
  assert.ok(!JSON.stringify(stored).includes(first.token));

  // The token works: the API handler lets it into an admin-only route.
  const api = lambdas.api;
  const context = lambdaContext('fanout-dev-api');
  const listed = await api(httpEvent('GET', '/api/admin/tokens', first.token), context);
  assert.equal(listed.statusCode, 200, listed.body);
  assert.ok(!listed.body!.includes(first.token), 'the token list shows no token');

  // Again (a retried invoke, or a second operator): nothing new, no token in the answer.
  const again = await capturing(() => handler({}));
  assert.deepEqual(Object.keys(again).sort(), ['created', 'reason']);
  assert.equal(again.created, false);
  assert.equal((await tokens.list()).length, 1);

  // A lost token: an explicit recovery makes another admin token; the first one still works.
  const recovered = await capturing(() => handler({ recover: true }));
  assert.equal(recovered.created, true);
  if (!recovered.created) return;
  assert.notEqual(recovered.token, first.token);
  assert.equal((await tokens.list()).filter((t) => t.role === 'admin').length, 2);
  assert.match(recovered.name, /^admin \(recovery \d{4}-\d{2}-\d{2}\)$/);

  // Logged: that a token was made and its id; never the token.
  const logged = logs.join('');
  assert.match(logged, /admin token created/);
  assert.ok(logged.includes(first.tokenId));
  for (const t of [first.token, recovered.token]) assert.ok(!logged.includes(t), 'no token in the logs');
});
