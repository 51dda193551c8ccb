/**
 * AMF0 (Action Message Format 0), the encoding of RTMP commands (`connect`, `publish`, `onStatus`)
 * and of FLV script data (`onMetaData`). Only what an RTMP publisher meets:
 *
 *   0x00 number (IEEE-754 double, big-endian)   0x01 boolean        0x02 string (u16 length)
 *   0x03 object (u16 key, value …, 00 00 09)    0x05 null           0x06 undefined
 *   0x08 ECMA array (u32 count, then as object) 0x0A strict array   0x0B date   0x0C long string
 *
 * Decoding an object or ECMA array gives a plain object; encoding a plain object writes an AMF0
 * object, and `new EcmaArray({...})` writes an ECMA array (what `onMetaData` uses).
 */

export type Amf0Value = number | boolean | string | null | undefined | Date | EcmaArray | Amf0Value[] | Amf0Object;
export interface Amf0Object {
  [key: string]: Amf0Value;
}

/** Marks properties to be encoded as an AMF0 ECMA array instead of an object. */
export class EcmaArray {
  constructor(readonly props: Amf0Object) {}
}

export class Amf0Error extends Error {}

const T = { NUMBER: 0x00, BOOLEAN: 0x01, STRING: 0x02, OBJECT: 0x03, NULL: 0x05, UNDEFINED: 0x06, ECMA: 0x08, OBJECT_END: 0x09, STRICT: 0x0a, DATE: 0x0b, LONG_STRING: 0x0c } as const;

function encodeString(s: string, out: Buffer[]): void {
  const body = Buffer.from(s, 'utf8');
  if (body.length > 0xffff) {
    const h = Buffer.allocUnsafe(5);
    h[0] = T.LONG_STRING;
    h.writeUInt32BE(body.length, 1);
    out.push(h, body);
    return;
  }
  const h = Buffer.allocUnsafe(3);
  h[0] = T.STRING;
  h.writeUInt16BE(body.length, 1);
  out.push(h, body);
}

function encodeProps(o: Amf0Object, out: Buffer[]): void {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    const key = Buffer.from(k, 'utf8');
    const h = Buffer.allocUnsafe(2);
    h.writeUInt16BE(key.length, 0);
    out.push(h, key);
    encodeInto(v, out);
  }
  out.push(Buffer.from([0, 0, T.OBJECT_END]));
}

function encodeInto(v: Amf0Value, out: Buffer[]): void {
  if (typeof v === 'number') {
    const b = Buffer.allocUnsafe(9);
    b[0] = T.NUMBER;
    b.writeDoubleBE(v, 1);
    out.push(b);
  } else if (typeof v === 'boolean') out.push(Buffer.from([T.BOOLEAN, v ? 1 : 0]));
  else if (typeof v === 'string') encodeString(v, out);
  else if (v === null) out.push(Buffer.from([T.NULL]));
  else if (v === undefined) out.push(Buffer.from([T.UNDEFINED]));
  else if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = T.DATE;
    b.writeDoubleBE(v.getTime(), 1);
    out.push(b);
  } else if (v instanceof EcmaArray) {
    const h = Buffer.allocUnsafe(5);
    h[0] = T.ECMA;
    h.writeUInt32BE(Object.values(v.props).filter((x) => x !== undefined).length, 1);
    out.push(h);
    encodeProps(v.props, out);
  } else if (Array.isArray(v)) {
    const h = Buffer.allocUnsafe(5);
    h[0] = T.STRICT;
    h.writeUInt32BE(v.length, 1);
    out.push(h);
    for (const x of v) encodeInto(x, out);
  } else {
    out.push(Buffer.from([T.OBJECT]));
    encodeProps(v, out);
  }
}

/** Encodes values one after the other (an RTMP command is `name, transactionId, object, args…`). */
export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const out: Buffer[] = [];
  for (const v of values) encodeInto(v, out);
  return Buffer.concat(out);
}

class Reader {
  constructor(
    readonly b: Buffer,
    public at = 0,
  ) {}
  need(n: number): void {
    if (this.at + n > this.b.length) throw new Amf0Error(`AMF0: truncated at byte ${this.at} (need ${n})`);
  }
  u8(): number {
    this.need(1);
    return this.b[this.at++] as number;
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.b.readDoubleBE(this.at);
    this.at += 8;
    return v;
  }
  utf8(n: number): string {
    this.need(n);
    const s = this.b.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }
}

function decodeProps(r: Reader, depth: number): Amf0Object {
  const o: Amf0Object = {};
  for (;;) {
    const keyLen = r.u16();
    if (keyLen === 0) {
      // An empty key followed by the end marker closes the object (a lone empty key is tolerated).
      if (r.at < r.b.length && r.b[r.at] === T.OBJECT_END) {
        r.at++;
        return o;
      }
      if (r.at >= r.b.length) return o;
    }
    const key = r.utf8(keyLen);
    o[key] = decodeOne(r, depth + 1);
  }
}

function decodeOne(r: Reader, depth: number): Amf0Value {
  if (depth > 32) throw new Amf0Error('AMF0: nested too deeply');
  const type = r.u8();
  switch (type) {
    case T.NUMBER:
      return r.f64();
    case T.BOOLEAN:
      return r.u8() !== 0;
    case T.STRING:
      return r.utf8(r.u16());
    case T.LONG_STRING:
      return r.utf8(r.u32());
    case T.OBJECT:
      return decodeProps(r, depth);
    case T.ECMA:
      r.u32(); // the count is a hint only; the end marker ends it
      return decodeProps(r, depth);
    case T.STRICT: {
      const n = r.u32();
      const a: Amf0Value[] = [];
      for (let i = 0; i < n; i++) a.push(decodeOne(r, depth + 1));
      return a;
    }
    case T.DATE: {
      const ms = r.f64();
      r.u16(); // time zone, unused
      return new Date(ms);
    }
    case T.NULL:
      return null;
    case T.UNDEFINED:
      return undefined;
    default:
      throw new Amf0Error(`AMF0: unsupported type 0x${type.toString(16)} at byte ${r.at - 1}`);
  }
}

/** Decodes every value in `b` (a command or a script-data payload). */
export function decodeAmf0(b: Buffer): Amf0Value[] {
  const r = new Reader(b);
  const out: Amf0Value[] = [];
  while (r.at < r.b.length) out.push(decodeOne(r, 0));
  return out;
}

/** Whether a script payload starts with the AMF0 string `name` (e.g. `onMetaData`), without decoding it. */
export function startsWithString(b: Buffer, name: string): boolean {
  if (b.length < 3 + name.length || b[0] !== T.STRING) return false;
  if (b.readUInt16BE(1) !== name.length) return false;
  return b.toString('latin1', 3, 3 + name.length) === name;
}
