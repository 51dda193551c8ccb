import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redact, redactArgv, redactRtmpUrl, redactUrl } from './redact.ts';

test('redactRtmpUrl masks the stream key segment, the query and the userinfo', () => {
  const cases: [string, string][] = [
    ['rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl-mnop', 'rtmp://a.rtmp.youtube.com/live2/***'],
    ['rtmp://live.twitch.tv/app/live_123_Abc', 'rtmp://live.twitch.tv/app/***'],
    ['rtmps://live-api-s.facebook.com:443/rtmp/FB-1-0-Ab?s_bl=1&a=Xy', 'rtmps://live-api-s.facebook.com:443/rtmp/***?***'],
    ['rtmp://user:pw@ingest.example.com:1935/app/key', 'rtmp://ingest.example.com:1935/app/***'],
    ['rtmp://host/app/key/', 'rtmp://host/app/***/'],
    ['rtmp://host/app/inst/key', 'rtmp://host/app/inst/***'],
    // No key in the path: nothing to mask but the query.
    ['rtmp://host/app', 'rtmp://host/app'],
    ['rtmp://host/app?key=abc', 'rtmp://host/app?***'],
    ['RTMPS://HOST/APP/KEY', 'RTMPS://HOST/APP/***'],
    ['not a url', '***'],
  ];
  for (const [input, expected] of cases) assert.equal(redactRtmpUrl(input), expected, input);
});

test('redactUrl masks SRT passphrases, any userinfo, and keys under any unknown scheme', () => {
  const cases: [string, string][] = [
    ['srt://:9000?mode=listener&passphrase=correcthorse123', 'srt://:9000?mode=listener&passphrase=***'],
    ['srt://1.2.3.4:9000?passphrase=abc&latency=200', 'srt://1.2.3.4:9000?passphrase=***&latency=200'],
    // Any other scheme is treated like RTMP: queries and deep paths often carry tokens.
    ['https://user:token@example.com/x?token=1', 'https://example.com/x?***'],
    ['rtmpx://h/live/key_typo_scheme', 'rtmpx://h/live/***'],
    ['tcp://127.0.0.1:1?tcp_nodelay=0', 'tcp://127.0.0.1:1?tcp_nodelay=0'],
    ['rtmp://host/app/key', 'rtmp://host/app/***'],
    ['pipe:', 'pipe:'],
  ];
  for (const [input, expected] of cases) assert.equal(redactUrl(input), expected, input);
});

test('redact replaces every secret, raw and URL-encoded, longest first', () => {
  assert.equal(redact('key=abcd1234 again abcd1234', ['abcd1234']), 'key=*** again ***');
  assert.equal(redact('a/b+c==', ['a/b+c==']), '***');
  assert.equal(redact('sent a%2Fb%2Bc%3D%3D', ['a/b+c==']), 'sent ***');
  assert.equal(redact('abcdef', ['abcd', 'abcdef']), '***');
  // Too short to scrub without destroying the text (same rule as shared/secrets).
  assert.equal(redact('abc', ['abc', '']), 'abc');
});

test('redact sanitises media URLs inside FFmpeg lines even when nobody listed the key', () => {
  const cases: [string, string][] = [
    ['rtmp://127.0.0.1:1/app/sk_live_X: Connection refused', 'rtmp://127.0.0.1:1/app/***: Connection refused'],
    ["Output #0, flv, to 'rtmp://h/live2/k-e-y':", "Output #0, flv, to 'rtmp://h/live2/***':"],
    ["Media path: 'srt://:19400?mode=listener&passphrase=pw_long_one' --> 'udp://127.0.0.1:19500'", "Media path: 'srt://:19400?mode=listener&passphrase=***' --> 'udp://127.0.0.1:19500'"],
    ['Error closing file rtmps://h:443/rtmp/FB-1?a=b: Broken pipe', 'Error closing file rtmps://h:443/rtmp/***?***: Broken pipe'],
    ['[tcp @ 0x1] Connection to tcp://127.0.0.1:1?tcp_nodelay=0 failed', '[tcp @ 0x1] Connection to tcp://127.0.0.1:1?tcp_nodelay=0 failed'],
  ];
  for (const [input, expected] of cases) assert.equal(redact(input), expected, input);
});

test('redactArgv masks URLs, listed secrets and the value after -passphrase', () => {
  const argv = ['ffmpeg', '-i', 'srt://:9000?mode=listener', '-passphrase', 'hunter2hunter2', '-f', 'flv', 'rtmp://h/app/streamkey', '-metadata', 'title=streamkey'];
  assert.deepEqual(redactArgv(argv, ['streamkey']), [
    'ffmpeg', '-i', 'srt://:9000?mode=listener', '-passphrase', '***', '-f', 'flv', 'rtmp://h/app/***', '-metadata', 'title=***',
  ]);
});
