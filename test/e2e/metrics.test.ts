/**
 * GET /metrics with real media: an encrypted SRT feed from FFmpeg, one destination pushing to a
 * private nginx-rtmp on loopback, scraped with a metrics token and read back with a Prometheus
 * text-format parser: the running destination's bitrate, fps and frames are above zero under its
 * id, name and platform; the ingest's RTT and bitrate are there; neither the stream key nor the
 * SRT passphrase appears anywhere in the exposition.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { startTestFeed, type TestFeed } from '../support/feed.ts';
import { NginxRtmp } from '../support/nginx-rtmp.ts';
import { eventually, type TestRuntime } from '../support/local.ts';

const PASSPHRASE = 'metrics-passphrase-0123456789';
const STREAM_KEY = 'metrics-stream-key-abcdef012345';

let nginx: NginxRtmp;
let feed: TestFeed;
let rt: TestRuntime;
let token: string;

const value = (families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number | undefined => {
  const sample = families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample?.value === undefined ? undefined : Number(sample.value);
};

describe('GET /metrics with a real feed', { timeout: 180_000 }, () => {
  before(async () => {
    nginx = await NginxRtmp.start();
    feed = await startTestFeed({ passphrase: PASSPHRASE });
    rt = feed.rt;
    const res = await rt.api('POST', '/api/admin/tokens', { body: { name: 'prometheus', role: 'metrics' } });
    assert.equal(res.status, 201, res.text);
    token = res.json.token as string;
  });
  after(async () => {
    await feed?.close();
    await nginx?.close();
  });

  it("a running destination's bitrate, fps and frames are above zero; the ingest's RTT is there; no secret is shown", async () => {
    const created = await rt.api('POST', '/api/destinations', { body: { name: 'Scraped YouTube', platform: 'youtube', rtmpUrl: nginx.url('live'), streamKey: STREAM_KEY, preset: 'passthrough' } });
    assert.equal(created.status, 201, created.text);
    const id = created.json.destinationId as string;
    await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === 'idle', { timeoutMs: 30_000, what: 'idle' });
    assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
    await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === 'running', { timeoutMs: 30_000, what: 'running' });

    const labels = { destination_id: id, name: 'Scraped YouTube', platform: 'youtube' };
    let text = '';
    const families = await eventually(
      async () => {
        const res = await rt.api('GET', '/metrics', { token });
        if (res.status !== 200) throw new Error(`${res.status} ${res.text}`);
        text = res.text;
        const f = parsePrometheusTextFormat(text);
        return (value(f, 'fanout_destination_bitrate_bits_per_second', labels) ?? 0) > 0 && (value(f, 'fanout_destination_frames', labels) ?? 0) > 0 && value(f, 'fanout_ingest_rtt_seconds') !== undefined ? f : null;
      },
      { timeoutMs: 20_000, what: 'the running destination and the ingest in /metrics' },
    );
    assert.equal(value(families, 'fanout_destination_status', { ...labels, status: 'running' }), 1);
    assert.ok((value(families, 'fanout_destination_fps', labels) ?? 0) > 0);
    assert.ok((value(families, 'fanout_destination_sent_bytes', labels) ?? 0) > 0);
    assert.ok((value(families, 'fanout_destination_uptime_seconds', labels) ?? -1) >= 0);
    assert.equal(value(families, 'fanout_destination_restarts', labels), 0);
    assert.equal(value(families, 'fanout_ingest_connected'), 1);
    assert.ok((value(families, 'fanout_ingest_bitrate_bits_per_second') ?? 0) > 0);
    assert.ok((value(families, 'fanout_ingest_rtt_seconds') ?? -1) >= 0);
    for (const secret of [STREAM_KEY, PASSPHRASE]) assert.ok(!text.includes(secret), 'no secret in the exposition');
    // The figures agree with the API's own view of the destination.
    const api = (await rt.api('GET', `/api/destinations/${id}/metrics`)).json.metrics as { frames: number };
    assert.ok(api.frames > 0);
  });
});
