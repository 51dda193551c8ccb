/**
 * The local runtime with the real local engine still starts with the input-redundancy routes
 * mounted; where the local engine does not implement InputRedundancy yet, they answer 501
 * INPUT_REDUNDANCY_UNSUPPORTED and the health route answers as before. Run under the media lock.
 *
 * @media FFmpeg, fanout-srt (npm run test:unit leaves this file out)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestRuntime } from './support/local.ts';
import { freeUdpPort } from './support/nginx-rtmp.ts';

test('local engine: the runtime starts; switch/test/failover are 501 until the engine has a backup input, or work once it has', async () => {
  const rt = await startTestRuntime({ FANOUT_SRT_PORT: String(await freeUdpPort()), FANOUT_SRT_HOST: '127.0.0.1' }, { engine: 'local' });
  try {
    const health = await rt.api('GET', '/api/mediaconnect/inputs/health');
    assert.equal(health.status, 200, health.text);
    assert.equal(health.json.connected, false);
    const implemented = typeof (rt.engine as unknown as { switchInput?: unknown }).switchInput === 'function';
    const t = await rt.api('POST', '/api/mediaconnect/inputs/backup/test');
    if (implemented) {
      assert.equal(t.status, 200, t.text);
      assert.equal(typeof t.json.connected, 'boolean');
      assert.ok('inputs' in health.json);
    } else {
      assert.equal(t.status, 501, t.text);
      assert.equal(t.json.code, 'INPUT_REDUNDANCY_UNSUPPORTED');
      const sw = await rt.api('POST', '/api/mediaconnect/inputs/switch', { body: { to: 'backup' } });
      assert.equal(sw.json.code, 'INPUT_REDUNDANCY_UNSUPPORTED');
    }
  } finally {
    await rt.close();
  }
});
