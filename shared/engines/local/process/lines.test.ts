import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineRing, LineSplitter, MAX_LINE_LENGTH } from './lines.ts';

test('LineSplitter cuts on \\r, \\n and \\r\\n, across chunk boundaries, skipping empty lines', () => {
  const text = 'Input #0\nframe=  1 fps=0\rframe=  2 fps=0\rError: x\r\nlast';
  const expected = ['Input #0', 'frame=  1 fps=0', 'frame=  2 fps=0', 'Error: x', 'last'];
  for (const size of [1, 2, 5, text.length]) {
    const s = new LineSplitter();
    const got: string[] = [];
    for (let i = 0; i < text.length; i += size) got.push(...s.push(Buffer.from(text.slice(i, i + size))));
    got.push(...s.end());
    assert.deepEqual(got, expected, `chunks of ${size}`);
  }
});

test('LineSplitter bounds a line that never ends', () => {
  const s = new LineSplitter();
  const out = s.push('z'.repeat(MAX_LINE_LENGTH * 3));
  assert.equal(out.length, 1);
  assert.ok(out[0]!.length <= MAX_LINE_LENGTH + 1);
  assert.deepEqual(s.push('\nok\n'), ['ok']);
});

test('LineRing keeps the last N lines, oldest first', () => {
  const r = new LineRing(3);
  for (const l of ['a', 'b', 'c', 'd', 'e']) r.push(l);
  assert.deepEqual(r.lines(), ['c', 'd', 'e']);
  r.clear();
  assert.deepEqual(r.lines(), []);
  assert.throws(() => new LineRing(0), RangeError);
});
