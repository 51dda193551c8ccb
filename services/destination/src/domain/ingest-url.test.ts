/** Ingest URL and stream key rules, table-driven: what is refused (and why), what is stored. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkStreamKey, parseIngestUrl, type IngestUrlReason } from './ingest-url.ts';

const accepted: [input: string, stored: string][] = [
  ['rtmp://a.rtmp.youtube.com/live2', 'rtmp://a.rtmp.youtube.com/live2'],
  ['rtmps://a.rtmps.youtube.com:443/live2', 'rtmps://a.rtmps.youtube.com:443/live2'],
  ['RTMP://Live.Twitch.TV/app', 'rtmp://live.twitch.tv/app'],
  ['rtmps://live-api-s.facebook.com:443/rtmp/', 'rtmps://live-api-s.facebook.com:443/rtmp/'],
  ['rtmp://127.0.0.1:1935/live', 'rtmp://127.0.0.1:1935/live'],
  ['rtmp://[::1]:1935/live', 'rtmp://[::1]:1935/live'],
  ['rtmp://[0:0:0:0:0:0:0:1]/live', 'rtmp://[::1]/live'],
  ['rtmp://host/app/instance', 'rtmp://host/app/instance'],
  ['rtmp://ingest_1.example/live', 'rtmp://ingest_1.example/live'],
  // IDN hosts in punycode, whether typed or percent-encoded (never left percent-encoded).
  ['rtmp://exämple.com/live', 'rtmp://xn--exmple-cua.com/live'],
  ['rtmp://ex%C3%A4mple.com/live', 'rtmp://xn--exmple-cua.com/live'],
  ['rtmp://BÜCHER.example/live', 'rtmp://xn--bcher-kva.example/live'],
  // IPv4 in the forms getaddrinfo reads, written as the address they mean.
  ['rtmp://2130706433/live', 'rtmp://127.0.0.1/live'],
  ['rtmp://127.1:1935/live', 'rtmp://127.0.0.1:1935/live'],
  ['rtmp://0x7f.0.0.1/live', 'rtmp://127.0.0.1/live'],
];

const refused: [input: string, reason: IngestUrlReason][] = [
  ['https://example.com/live', 'scheme'],
  ['srt://example.com:9000', 'scheme'],
  ['rtmp:/example.com/live', 'scheme'],
  ['rtmp://user:secretpass@ingest.example.com/live', 'credentials'],
  ['rtmp://user@ingest.example.com/live', 'credentials'],
  ['rtmp://:@ingest.example.com/live', 'credentials'],
  ['rtmp://example.com', 'no-application'],
  ['rtmp://example.com/', 'no-application'],
  ['rtmp://example.com//', 'no-application'],
  ['rtmp://example.com:0/live', 'port'],
  ['rtmp://example.com:65536/live', 'port'],
  ['rtmp://example.com:99999/live', 'port'],
  ['rtmp://example.com:/live', 'port'],
  ['rtmp://example.com:-1/live', 'port'],
  ['rtmp://example.com:12a/live', 'port'],
  ['rtmp://example.com/live?key=abc', 'query'],
  ['rtmp://example.com?x=1', 'query'],
  ['rtmp://example.com/live#frag', 'fragment'],
  ['rtmp://example.com/li\u0000ve', 'control-character'],
  ['rtmp://example.com/live\n', 'control-character'],
  ['rtmp://exa\tmple.com/live', 'control-character'],
  ['rtmp://example.com/li ve', 'control-character'],
  ['rtmp://example.com/live\u0085', 'control-character'],
  ['rtmp://ex%00ample.com/live', 'host'],
  ['rtmp://ex%ZZample.com/live', 'host'],
  ['rtmp:///live', 'host'],
  ['rtmp://exa!mple.com/live', 'host'],
  ['rtmp://a..b/live', 'host'],
  ['rtmp://[::1/live', 'host'],
  ['rtmp://[not:v6]/live', 'host'],
  ['rtmp://example.com/lïve', 'path'],
];

describe('parseIngestUrl', () => {
  for (const [input, stored] of accepted)
    test(`accepts ${JSON.stringify(input)} as ${stored}`, () => {
      const r = parseIngestUrl(input);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.value.url, stored);
    });
  for (const [input, reason] of refused)
    test(`refuses ${JSON.stringify(input)}: ${reason}`, () => {
      const r = parseIngestUrl(input);
      assert.ok(!r.ok, `accepted as ${r.ok ? r.value.url : ''}`);
      assert.equal(r.reason, reason, r.message);
      assert.ok(!r.message.includes('secretpass'), 'a password is never repeated');
    });

  test('a platform URL field can require its scheme', () => {
    assert.equal(parseIngestUrl('rtmp://h/app', { scheme: 'rtmps' }).ok, false);
    assert.equal(parseIngestUrl('rtmps://h/app', { scheme: 'rtmps' }).ok, true);
  });

  test('the parts are returned for the egress check', () => {
    const r = parseIngestUrl('rtmps://Ex%C3%A4mple.com:8443/live/x');
    assert.ok(r.ok);
    assert.deepEqual({ ...r.value, url: undefined }, { url: undefined, scheme: 'rtmps', host: 'xn--exmple-cua.com', port: 8443, path: '/live/x' });
  });
});

describe('checkStreamKey', () => {
  for (const bad of ['abc\u0000def', 'abc\ndef', 'abc\u007f', '\u0001', 'x\u009b'])
    test(`refuses ${JSON.stringify(bad)} without showing it`, () => {
      const r = checkStreamKey(bad);
      assert.ok(!r.ok);
      assert.ok(!r.message.includes(bad));
    });
  for (const good of ['xxxx-xxxx-xxxx-xxxx', 'live_123456789_abcdefghij', 'FB-123-0-AbCd?s_bl=1&s_ps=1']) test(`accepts ${good}`, () => assert.ok(checkStreamKey(good).ok));
});
