import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, signWebhook, verifyWebhook } from './signature.ts';

const secret = generateWebhookSecret();
const other = generateWebhookSecret();
const body = JSON.stringify({ version: '4', status: 'firing', alerts: [{ labels: { alertname: 'DestinationFailing' } }] });
const at = new Date('2026-11-10T10:00:00.000Z');
const headers = signWebhook({ secrets: [secret], id: 'ops-1-abc', body, at });

describe('webhook signatures (Standard Webhooks)', () => {
  test('the header format', () => {
    assert.equal(headers['webhook-id'], 'ops-1-abc');
    assert.equal(headers['webhook-timestamp'], String(at.getTime() / 1000));
    assert.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  });

  test("the reference library's own verify accepts it (interoperability)", () => {
    const now = Date.now;
    Date.now = () => at.getTime() + 1000;
    try {
      assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    } finally {
      Date.now = now;
    }
  });

  const seenNone = () => false;
  const cases: [string, Parameters<typeof verifyWebhook>[0], string][] = [
    ['valid, a second later', { secret, headers: { ...headers }, body, now: new Date(at.getTime() + 1000), seen: seenNone }, 'ok'],
    ['headers in another case', { secret, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v])), body, now: at, seen: seenNone }, 'ok'],
    ['body changed by one byte', { secret, headers: { ...headers }, body: body.replace('firing', 'firinG'), now: at, seen: seenNone }, 'bad-signature'],
    ['another secret', { secret: other, headers: { ...headers }, body, now: at, seen: seenNone }, 'bad-signature'],
    ['timestamp changed (replay with a new time)', { secret, headers: { ...headers, 'webhook-timestamp': String(at.getTime() / 1000 + 60) }, body, now: at, seen: seenNone }, 'bad-signature'],
    ['id changed', { secret, headers: { ...headers, 'webhook-id': 'ops-2-abc' }, body, now: at, seen: seenNone }, 'bad-signature'],
    ['replayed 6 minutes later', { secret, headers: { ...headers }, body, now: new Date(at.getTime() + 6 * 60_000), seen: seenNone }, 'too-old'],
    ['from the future', { secret, headers: { ...headers }, body, now: new Date(at.getTime() - 6 * 60_000), seen: seenNone }, 'too-new'],
    ['replayed within the window (id already accepted)', { secret, headers: { ...headers }, body, now: at, seen: (id) => id === 'ops-1-abc' }, 'replayed'],
    ['no signature', { secret, headers: { 'webhook-id': 'x', 'webhook-timestamp': '1' }, body, now: at, seen: seenNone }, 'missing-headers'],
    ['a timestamp that is not a number', { secret, headers: { ...headers, 'webhook-timestamp': '1e9' }, body, now: at, seen: seenNone }, 'bad-timestamp'],
  ];
  for (const [name, args, expected] of cases)
    test(name, () => {
      const r = verifyWebhook(args);
      assert.equal(r.ok ? 'ok' : r.reason, expected);
    });

  test('secret rotation: signed with the new and the old key, a receiver with either accepts', () => {
    const h = signWebhook({ secrets: [other, secret], id: 'ops-3-abc', body, at });
    assert.equal(h['webhook-signature'].split(' ').length, 2);
    for (const s of [secret, other]) assert.equal(verifyWebhook({ secret: s, headers: { ...h }, body, now: at, seen: () => false }).ok, true);
  });

  test('an id with a dot is refused (it would shift the signed fields)', () => {
    assert.throws(() => signWebhook({ secrets: [secret], id: 'a.b', body, at }), /must not contain/);
  });
});
