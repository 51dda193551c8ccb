/**
 * Stream keys never leave the store in clear: a full API session is run while every log line,
 * response body and published event is captured, and none may contain a stream key. The data
 * dir may not either (the key is encrypted at rest, the key file is 0600).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ADMIN_TOKEN, startTestRuntime } from './support/local.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test('no stream key in any log line, response, event or file of the data dir', async () => {
  const keys = ['live_123456789_SECRETKEYONE', 'sk-two-9f8e7d6c5b4a', 'short1', 'newkey-AFTER-update-42'];
  const logs: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logs.push(String(chunk));
    return write(chunk as string, ...(rest as []));
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logs.push(String(chunk));
    return writeErr(chunk as string, ...(rest as []));
  }) as typeof process.stderr.write;
  const rt = await startTestRuntime({ FANOUT_LOG_LEVEL: 'DEBUG' }, { inMemory: false });
  try {
    const ids: string[] = [];
    for (const [i, key] of keys.slice(0, 3).entries()) {
      const res = await rt.api('POST', '/api/destinations', {
        body: { name: `D${i}`, platform: i === 1 ? 'twitch' : 'custom', rtmpUrl: 'rtmp://127.0.0.1:1935/live', streamKey: key },
      });
      assert.equal(res.status, 201, res.text);
      ids.push(res.json.destinationId);
    }
    // Credentials in a URL are refused, and the password appears nowhere (the scan below).
    const creds = await rt.api('POST', '/api/destinations', { body: { name: 'creds', platform: 'custom', rtmpUrl: `rtmp://user:${keys[2]}@127.0.0.1:1935/live`, streamKey: keys[0] } });
    assert.equal(creds.status, 422, creds.text);
    // Errors that involve a key: invalid key, key reused with another Idempotency-Key body.
    await rt.api('POST', '/api/destinations', { body: { name: 'bad', platform: 'custom', rtmpUrl: 'rtmp://h/a', streamKey: `${keys[0]} with spaces` } });
    await rt.api('POST', '/api/destinations', { body: { name: 'x', platform: 'custom', rtmpUrl: 'rtmp://h/a', streamKey: keys[0] }, headers: { 'idempotency-key': 'k1' } });
    await rt.api('POST', '/api/destinations', { body: { name: 'x', platform: 'custom', rtmpUrl: 'rtmp://h/a', streamKey: keys[1] }, headers: { 'idempotency-key': 'k1' } });
    await rt.api('PUT', `/api/destinations/${ids[0]}`, { body: { streamKey: keys[3] } });
    await rt.api('PUT', `/api/destinations/${ids[0]}`, { body: { streamKey: keys[3], bogus: keys[3] } });
    await rt.api('POST', `/api/destinations/${ids[0]}/start`);
    await rt.api('GET', '/api/destinations');
    for (const id of ids) await rt.api('GET', `/api/destinations/${id}`);
    await rt.api('DELETE', `/api/destinations/${ids[1]}`);
    await rt.bus.drain(5000);

    const haystacks: [string, string][] = [
      ...rt.responses.map((r): [string, string] => ['response', r]),
      ...rt.published.map((e): [string, string] => ['event', JSON.stringify(e)]),
      ...logs.map((l): [string, string] => ['log', l]),
      ...filesUnder(rt.dataDir)
        .filter((f) => !f.endsWith('.key'))
        .map((f): [string, string] => [`file ${f}`, readFileSync(f).toString('latin1')]),
    ];
    assert.ok(rt.responses.length >= 10 && rt.published.length >= 4 && logs.length > 0, 'the scan saw traffic');
    for (const key of keys) for (const [where, text] of haystacks) assert.ok(!text.includes(key), `stream key found in ${where}: ${text.slice(0, 200)}`);
    for (const [where, text] of haystacks) assert.ok(!text.includes(ADMIN_TOKEN), `admin token found in ${where}: ${text.slice(0, 200)}`);
    const keyFile = join(rt.dataDir, 'secrets', 'stream-keys.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
    await rt.close();
  }
});
