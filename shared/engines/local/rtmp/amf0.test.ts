import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Amf0Error, decodeAmf0, EcmaArray, encodeAmf0, startsWithString } from './amf0.ts';

describe('amf0', () => {
  it('round-trips numbers, booleans, strings, null, undefined, objects, ECMA and strict arrays', () => {
    const values = [1.5, -0, 0, 2 ** 40, true, false, '', 'héllo', null, undefined, { a: 1, b: 'x', c: { d: null } }, [1, 'two', false]];
    assert.deepEqual(decodeAmf0(encodeAmf0(...values)), values);
    const ecma = encodeAmf0(new EcmaArray({ width: 1920, height: 1080, skipped: undefined }));
    assert.equal(ecma[0], 0x08);
    assert.equal(ecma.readUInt32BE(1), 2);
    assert.deepEqual(decodeAmf0(ecma), [{ width: 1920, height: 1080 }]);
  });

  it('encodes strings longer than 65535 bytes as long strings', () => {
    const s = 'x'.repeat(70_000);
    const b = encodeAmf0(s);
    assert.equal(b[0], 0x0c);
    assert.deepEqual(decodeAmf0(b), [s]);
  });

  it('decodes what nginx-rtmp answers to connect', () => {
    // Captured: the AMF0 payload of nginx-rtmp 1.2.2's `_result` to connect.
    const hex =
      '02000' +
      '75f726573756c74003ff0000000000000030006666d7356657202000d464d532f332c302c312c313233000c6361706162696c697469657300403f0000000000000000090300056c6576656c0200067374617475730004636f646502001d4e6574436f6e6e656374696f6e2e436f6e6e6563742e53756363657373000b6465736372697074696f6e020015436f6e6e656374696f6e207375636365656465642e000e6f626a656374456e636f64696e67000000000000000000000009';
    assert.deepEqual(decodeAmf0(Buffer.from(hex, 'hex')), ['_result', 1, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 }]);
  });

  it('decodes dates and rejects truncated or unknown data', () => {
    const d = Buffer.alloc(11);
    d[0] = 0x0b;
    d.writeDoubleBE(86_400_000, 1);
    assert.deepEqual(decodeAmf0(d), [new Date(86_400_000)]);
    assert.throws(() => decodeAmf0(Buffer.from([0x02, 0x00, 0x05, 0x61])), Amf0Error);
    assert.throws(() => decodeAmf0(Buffer.from([0x11])), Amf0Error);
  });

  it('tells a script payload starting with a given string', () => {
    assert.equal(startsWithString(encodeAmf0('onMetaData', {}), 'onMetaData'), true);
    assert.equal(startsWithString(encodeAmf0('onCuePoint', {}), 'onMetaData'), false);
    assert.equal(startsWithString(Buffer.from([2, 0]), 'onMetaData'), false);
  });
});
