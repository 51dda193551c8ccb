import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AppError, toProblem } from './app-error.ts';
import { errorRegistry } from './registry.ts';

// The registry's table: what comes before the `lastError` codes (docs/errors.md has both; test/error-codes.test.ts checks the second).
const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8').split('\n## Destination and input errors')[0]!;

test('every error code is documented in docs/errors.md with its status', () => {
  for (const [code, spec] of Object.entries(errorRegistry)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${spec.status} \\|`), `${code} documented with ${spec.status}`);
  }
});

test('docs/errors.md lists no code the registry does not have', () => {
  const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), Object.keys(errorRegistry).sort());
});

test('problem documents carry the stable code and never the message of an unknown error', () => {
  const p = toProblem(new AppError('DESTINATION_NOT_FOUND', 'No destination with id x.'), 'req-1');
  assert.equal(p.code, 'DESTINATION_NOT_FOUND');
  assert.equal(p.status, 404);
  assert.equal(p.instance, 'req-1');
  const internal = toProblem(new Error('secret stream key abcdef in a stack'));
  assert.equal(internal.code, 'INTERNAL');
  assert.ok(!JSON.stringify(internal).includes('abcdef'));
});
