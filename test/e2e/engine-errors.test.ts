/**
 * The local engine's errors reach the user as the engine said them (ADR 0022): a channel the
 * engine cannot start shows the engine's own code and hint in GET /api/destinations/{id}
 * `lastError`, not a generic CHANNEL_START_FAILED. Real local engine (srt-live-transmit and the
 * flow hub run; no feed is needed: the start fails before anything would connect).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOCAL_ENGINE_ERRORS } from '../../shared/engines/local/engine/channel-lifecycle.ts';
import { freeUdpPort } from '../support/nginx-rtmp.ts';
import { eventually, startTestRuntime } from '../support/local.ts';

type Dest = { status: string; mediaConnectOutputArn: string | null; lastError: { code: string; message: string; hint: string } | null };

test("a channel the local engine refuses to start shows the engine's code and hint in lastError", { timeout: 120_000 }, async (t) => {
  const srtPort = await freeUdpPort();
  const rt = await startTestRuntime({ FANOUT_SRT_PORT: String(srtPort), FANOUT_SRT_HOST: '127.0.0.1', FANOUT_SRT_PASSPHRASE: 'engine-errors-passphrase-01' }, { engine: 'local', schedules: false });
  t.after(() => rt.close());
  const res = await rt.api('POST', '/api/destinations', { body: { name: 'Lost output', platform: 'custom', rtmpUrl: 'rtmp://127.0.0.1:1/live', streamKey: 'lost-output-key-0123456789', preset: 'passthrough' } });
  assert.equal(res.status, 201, res.text);
  const id = res.json.destinationId as string;
  const get = async () => (await rt.api('GET', `/api/destinations/${id}`)).json as Dest;
  const idle = await eventually(
    async () => {
      const d = await get();
      return d.status === 'idle' ? d : null;
    },
    { timeoutMs: 30_000, what: 'idle' },
  );
  // The engine loses the destination's flow output (as after a restart, before flow-output's
  // reconcile adds it again): a passthrough channel cannot start without it.
  await rt.engine!.removeOutput(idle.mediaConnectOutputArn!);
  assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
  const failed = await eventually(
    async () => {
      const d = await get();
      return d.status === 'error' && d.lastError ? d : null;
    },
    { timeoutMs: 30_000, what: 'status error with lastError' },
  );
  assert.equal(failed.lastError!.code, 'OUTPUT_NOT_FOUND', "the engine's code, not CHANNEL_START_FAILED");
  assert.equal(failed.lastError!.hint, LOCAL_ENGINE_ERRORS.OUTPUT_NOT_FOUND.hint);
  assert.match(failed.lastError!.message, /its flow output does not exist/);
});
