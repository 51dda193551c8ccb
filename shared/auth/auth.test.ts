/**
 * The pieces of API authentication on their own: the rate limiter (bounded, peek without taking)
 * and the token store on dynalite (only valid tokens remembered; revocation and replacement take
 * effect at once, also for a lookup that overlapped them), and ApiAuth's order of refusals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../errors/index.ts';
import { ensureTables, startDynalite, type EmbeddedDynamo } from '../runtimes/local/dynalite.ts';
import { loadServerlessConfig } from '../runtimes/local/serverless-config.ts';
import { Secret } from '../secrets/secret.ts';
import { createDocumentClient, createDynamoClient } from '../store/dynamo.ts';
import { ApiAuth } from './api-auth.ts';
import { RateLimiter } from './rate-limit.ts';
import { TokenStore } from './tokens.ts';

describe('RateLimiter', () => {
  test('a burst of perMinute, then the seconds to wait; refills continuously; peek takes nothing', () => {
    let now = 0;
    const rl = new RateLimiter(6, { now: () => now });
    assert.equal(rl.peek('a'), 0);
    assert.deepEqual(
      Array.from({ length: 7 }, () => rl.take('a')),
      [0, 0, 0, 0, 0, 0, 10],
    );
    assert.equal(rl.peek('a'), 10);
    assert.equal(rl.peek('a'), 10, 'peeking does not spend');
    assert.equal(rl.take('b'), 0, 'keys are independent');
    now += 10_000;
    assert.equal(rl.peek('a'), 0);
    assert.equal(rl.take('a'), 0);
    assert.equal(rl.take('a'), 10);
  });

  test('charge spends into debt (down to one minute of it), so work already in flight is paid for by waiting', () => {
    let now = 0;
    const rl = new RateLimiter(6, { now: () => now });
    for (let i = 0; i < 10; i++) rl.charge('a');
    // 6 in the bucket, 4 into debt: one more needs 5 refills of 10 s.
    assert.equal(rl.peek('a'), 50);
    for (let i = 0; i < 100; i++) rl.charge('a');
    assert.equal(rl.peek('a'), 70, 'the debt is capped at one minute');
    now += 70_000;
    assert.equal(rl.peek('a'), 0);
  });

  test('remembers at most maxKeys keys (a flood of distinct keys costs fixed memory)', () => {
    const rl = new RateLimiter(5, { maxKeys: 100 });
    for (let i = 0; i < 20_000; i++) rl.take(`key-${i}`);
    assert.equal(rl.size, 100);
  });
});

describe('TokenStore and ApiAuth on dynalite', () => {
  let db: EmbeddedDynamo;
  let doc: DynamoDBDocumentClient;
  let table: string;
  before(async () => {
    const wiring = loadServerlessConfig({ stage: 'local' });
    db = await startDynalite(undefined);
    const dynamo = createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint });
    await ensureTables(dynamo, wiring.tables);
    doc = createDocumentClient(dynamo);
    table = wiring.environment.FANOUT_TABLE_TOKENS!;
  });
  after(async () => db?.close());

  test('only valid tokens are remembered, at most maxCached; a revocation is seen at once', async () => {
    const store = new TokenStore(doc, table, { positiveCacheMs: 60_000, maxCached: 3 });
    const tokens = Array.from({ length: 5 }, (_, i) => new Secret(`unit-token-${i}-0123456789abcdef`));
    const ids = [];
    for (const [i, t] of tokens.entries()) ids.push((await store.put(t, { name: `t${i}`, role: 'operator' }))!.tokenId);
    for (let i = 0; i < 1000; i++) assert.equal(await store.authenticate(`fo_wrong_${i}`), null);
    assert.equal(store.remembered('fo_wrong_1'), undefined, 'a wrong token is never remembered');
    for (const t of tokens) assert.equal((await store.authenticate(t.reveal()))?.role, 'operator');
    assert.equal(tokens.filter((t) => store.remembered(t.reveal())).length, 3, 'bounded');

    const last = tokens[4]!;
    assert.ok(store.remembered(last.reveal()), 'the last verified token is remembered');
    const told: string[] = [];
    store.onRevoked((id) => told.push(id));
    await store.revoke(ids[4]!);
    assert.equal(store.remembered(last.reveal()), undefined);
    assert.equal(await store.authenticate(last.reveal()), null);
    assert.deepEqual(told, [ids[4]]);
  });

  test('a lookup that overlapped a revocation does not bring the revoked token back into the cache', async () => {
    let release: (() => void) | undefined;
    let held = false;
    // The real dynalite client, with the first GetItem held until the revocation has finished.
    const slow = {
      send: async (cmd: unknown) => {
        if (cmd instanceof GetCommand && !held) {
          held = true;
          const out = await doc.send(cmd);
          await new Promise<void>((r) => (release = r));
          return out;
        }
        return doc.send(cmd as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new TokenStore(slow, table, { positiveCacheMs: 60_000 });
    const t = new Secret('overlapping-token-0123456789abcdef');
    const rec = (await store.put(t, { name: 'overlap', role: 'operator' }))!;
    const lookup = store.authenticate(t.reveal());
    await new Promise((r) => setImmediate(r));
    await store.revoke(rec.tokenId);
    release!();
    assert.equal((await lookup)?.tokenId, rec.tokenId, 'the request in flight read the token before it was deleted');
    assert.equal(store.remembered(t.reveal()), undefined, 'but it was not cached');
    assert.equal(await store.authenticate(t.reveal()), null);
  });

  test('replace makes a token the only one with its id; revoke removes every token with an id', async () => {
    const store = new TokenStore(doc, table, { positiveCacheMs: 60_000 });
    const a = new Secret('replace-token-a-0123456789abcdef');
    const b = new Secret('replace-token-b-0123456789abcdef');
    await store.replace(a, { tokenId: 'fixed-id', name: 'first', role: 'admin' });
    assert.equal((await store.authenticate(a.reveal()))?.tokenId, 'fixed-id');
    await store.replace(b, { tokenId: 'fixed-id', name: 'second', role: 'admin' });
    assert.equal(await store.authenticate(a.reveal()), null, 'the old value stops working at once');
    assert.equal((await store.authenticate(b.reveal()))?.name, 'second');
    assert.equal((await store.list()).filter((r) => r.tokenId === 'fixed-id').length, 1);
    await store.replace(b, { tokenId: 'fixed-id', name: 'second again', role: 'admin' });
    assert.equal((await store.list()).filter((r) => r.tokenId === 'fixed-id').length, 1, 'replacing with the same value keeps one');
    // Two records with one id (as an older Fanout left FANOUT_ADMIN_TOKEN rotations): revoke removes both.
    await store.put(a, { tokenId: 'fixed-id', name: 'left over', role: 'admin' });
    await store.revoke('fixed-id');
    assert.equal(await store.authenticate(a.reveal()), null);
    assert.equal(await store.authenticate(b.reveal()), null);
    await assert.rejects(store.revoke('fixed-id'), (e: unknown) => e instanceof AppError && e.code === 'TOKEN_NOT_FOUND');
  });

  test('ApiAuth: locked-out addresses are refused without a lookup; remembered tokens pass; budgets are per token; roles last', async () => {
    let lookups = 0;
    const counting = { send: (cmd: unknown) => (cmd instanceof GetCommand && lookups++, doc.send(cmd as never)) } as unknown as DynamoDBDocumentClient;
    const store = new TokenStore(counting, table, { positiveCacheMs: 60_000 });
    const admin = new Secret('apiauth-admin-0123456789abcdef');
    const op = new Secret('apiauth-operator-0123456789abcdef');
    await store.put(admin, { name: 'admin', role: 'admin' });
    await store.put(op, { name: 'op', role: 'operator' });
    const auth = new ApiAuth({ tokens: store, requestsPerMinute: 3, failuresPerMinute: 2 });
    const code = async (token: string | undefined, access: 'operator' | 'admin' = 'operator', clientAddress = '192.0.2.1') => {
      try {
        await auth.authenticate({ token, clientAddress }, access);
        return 'ok';
      } catch (e) {
        return (e as AppError).code;
      }
    };
    assert.equal(await code(admin.reveal()), 'ok');
    assert.equal(await code(op.reveal(), 'admin', '192.0.2.9'), 'FORBIDDEN', 'a forbidden request is no failed authentication');
    assert.equal(await code(undefined), 'UNAUTHENTICATED');
    assert.equal(await code('fo_wrong'), 'UNAUTHENTICATED');
    const before = lookups;
    assert.equal(await code('fo_wrong_again'), 'AUTH_RATE_LIMITED');
    assert.equal(lookups, before, 'no lookup for a locked-out address');
    assert.equal(await code(admin.reveal(), 'admin'), 'ok', 'a remembered token is not locked out by its neighbours');
    assert.equal(await code(admin.reveal(), 'admin', '192.0.2.2'), 'ok');
    assert.equal(await code(admin.reveal(), 'admin', '192.0.2.3'), 'RATE_LIMITED', "the token's budget is one, from any address");
    assert.equal(await code('fo_wrong', 'operator', '192.0.2.4'), 'UNAUTHENTICATED', 'other addresses have their own failure budget');
    // Guesses sent all at once all pass the lockout check before any has failed; they are paid for after.
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => code(`fo_burst_${i}`, 'operator', '192.0.2.5')));
    assert.ok(
      burst.every((c) => c === 'UNAUTHENTICATED' || c === 'AUTH_RATE_LIMITED'),
      burst.join(),
    );
    assert.ok(auth.failures.peek('192.0.2.5') >= 30, `the address waits for its debt: ${auth.failures.peek('192.0.2.5')} s`);
  });
});
