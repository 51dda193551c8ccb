/**
 * The local runtime with the real local engine serves the input-redundancy routes from the engine
 * (inputs.ts): with no encoder connected, both inputs show as not connected, the backup test says
 * so, a switch is refused with INPUT_NOT_CONNECTED, the failover settings round-trip; with the
 * backup port 0 the backup is "not configured". Media itself: test/failover-media.test.ts. Run
 * under the media lock.
 *
 * @media FFmpeg, fanout-srt (npm run test:unit leaves this file out)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestRuntime } from './support/local.ts';
import { freeUdpPort } from './support/nginx-rtmp.ts';

test('local engine: both inputs monitored with nothing connected; switch refused; failover settings round-trip', async () => {
  const backupPort = await freeUdpPort();
  const rt = await startTestRuntime({ FANOUT_SRT_PORT: String(await freeUdpPort()), FANOUT_SRT_HOST: '127.0.0.1', FANOUT_SRT_BACKUP_PORT: String(backupPort) }, { engine: 'local' });
  try {
    assert.equal(typeof (rt.engine as unknown as { switchInput?: unknown }).switchInput, 'function', 'the local engine implements InputRedundancy');
    const health = await rt.api('GET', '/api/mediaconnect/inputs/health');
    assert.equal(health.status, 200, health.text);
    assert.equal(health.json.connected, false);
    assert.equal(health.json.inputs.main.connected, false);
    assert.equal(health.json.inputs.backup.configured, true);
    assert.equal(health.json.inputs.backup.connected, false);
    assert.equal(health.json.active, null);
    const t = await rt.api('POST', '/api/mediaconnect/inputs/backup/test');
    assert.equal(t.status, 200, t.text);
    assert.deepEqual([t.json.connected, t.json.decodable], [false, false]);
    assert.deepEqual(t.json.problems, ['nothing is connected to the backup input']);
    const sw = await rt.api('POST', '/api/mediaconnect/inputs/switch', { body: { to: 'backup' } });
    assert.equal(sw.json.code, 'INPUT_NOT_CONNECTED', sw.text);
    const settings = { mode: 'manual', inputLossThresholdMs: 500, errorClearTimeMs: null, slateTimeoutMs: 120_000 };
    const put = await rt.api('PUT', '/api/mediaconnect/inputs/failover', { body: settings });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual((await rt.api('GET', '/api/mediaconnect/inputs/health')).json.settings, settings);
    const procs = (await rt.api('GET', '/api/admin/engine/processes')).json.processes as { name: string; role: string }[];
    assert.ok(
      procs.some((p) => p.name === 'srt-ingest-backup' && p.role === 'ingest'),
      'the backup ingest is listed',
    );
  } finally {
    await rt.close();
  }
});

test('local engine with FANOUT_SRT_BACKUP_PORT=0: no backup input', async () => {
  const rt = await startTestRuntime({ FANOUT_SRT_PORT: String(await freeUdpPort()), FANOUT_SRT_HOST: '127.0.0.1', FANOUT_SRT_BACKUP_PORT: '0' }, { engine: 'local' });
  try {
    const health = await rt.api('GET', '/api/mediaconnect/inputs/health');
    assert.equal(health.json.inputs.backup.configured, false);
    const t = await rt.api('POST', '/api/mediaconnect/inputs/backup/test');
    assert.deepEqual(t.json.problems, ['no backup input is configured']);
    const sw = await rt.api('POST', '/api/mediaconnect/inputs/switch', { body: { to: 'backup' } });
    assert.equal(sw.json.code, 'INPUT_NOT_CONNECTED', sw.text);
    const procs = (await rt.api('GET', '/api/admin/engine/processes')).json.processes as { name: string }[];
    assert.ok(!procs.some((p) => p.name === 'srt-ingest-backup'));
  } finally {
    await rt.close();
  }
});
