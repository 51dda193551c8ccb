import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSecretField, redact, redactArgv, redactRtmpUrl, redactUrl, registerSecret } from './redact.ts';
import { Secret } from './secret.ts';

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
  assert.deepEqual(redactArgv(argv, ['streamkey']), ['ffmpeg', '-i', 'srt://:9000?mode=listener', '-passphrase', '***', '-f', 'flv', 'rtmp://h/app/***', '-metadata', 'title=***']);
});

test('redact hides credentials by their shape: Authorization headers, bearer credentials, Fanout tokens, secret parameters', () => {
  const cases: [string, string][] = [
    ['Authorization: Bearer abc.def-123', 'Authorization: Bearer ***'],
    ['authorization=Basic dXNlcjpwYXNz', 'authorization=Basic ***'],
    ['{"authorization":"Bearer fo_abcdefghijklmnop"}', '{"authorization":"Bearer ***"}'],
    ['x-api-key: k3y-value', 'x-api-key: ***'],
    ['sent Bearer eyJhbGciOi.J9.sig to the API', 'sent Bearer *** to the API'],
    ['token fo_Ab12Cd34Ef56Gh78 refused', 'token fo_*** refused'],
    ['GET /api/events?access_token=fo-not-shaped&x=1', 'GET /api/events?access_token=***&x=1'],
    ['-passphrase hunter2hunter2 passphrase=hunter2hunter2', '-passphrase hunter2hunter2 passphrase=***'],
    // Prose and placeholders stay readable.
    ['Send Authorization: Bearer <token>.', 'Send Authorization: Bearer <token>.'],
    ['basic settings and bearer tokens', 'basic settings and bearer tokens'],
  ];
  for (const [input, expected] of cases) assert.equal(redact(input), expected, input);
});

test('redact scrubs every registered value, and a Secret registers itself when it is made', () => {
  registerSecret('registered-value-77');
  assert.equal(redact('x registered-value-77 y'), 'x *** y');
  const s = new Secret('made-not-revealed-88');
  assert.equal(redact('x made-not-revealed-88 y'), 'x *** y');
  assert.equal(s.toString(), '[redacted]');
  registerSecret('abc');
  assert.equal(redact('abc'), 'abc', 'too short to register');
});

test('isSecretField names the fields hidden whatever they hold, not their neighbours', () => {
  for (const f of ['authorization', 'Authorization', 'x-api-key', 'passphrase', 'streamKey', 'stream_key', 'token', 'accessToken', 'cookie']) assert.ok(isSecretField(f), f);
  for (const f of ['tokenId', 'streamKeyLast4', 'message', 'destinationId', 'url', 'keyframeInterval']) assert.ok(!isSecretField(f), f);
});
