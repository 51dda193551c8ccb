import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChannelStateSchema } from '../../../../events/channel-provisioner/common.ts';
import { assertTransition, CHANNEL_TRANSITIONS, isLegalTransition, MediaEngineError } from './channel-lifecycle.ts';

test('the comment above CHANNEL_TRANSITIONS lists exactly the legal transitions', () => {
  const source = readFileSync(fileURLToPath(new URL('./channel-lifecycle.ts', import.meta.url)), 'utf8');
  const documented = new Set([...source.matchAll(/^ \*\s+([A-Z_]+)\s+→\s+([A-Z_]+)\s{2,}/gm)].map((m) => `${m[1]}→${m[2]}`));
  const coded = new Set(Object.entries(CHANNEL_TRANSITIONS).flatMap(([from, tos]) => (tos ?? []).map((to) => `${from}→${to}`)));
  assert.deepEqual([...documented].sort(), [...coded].sort());
  for (const s of coded) for (const st of s.split('→')) assert.ok(ChannelStateSchema.options.includes(st as never), st);
});

test('illegal moves are typed errors', () => {
  assert.equal(isLegalTransition('IDLE', 'RUNNING'), false);
  assert.equal(isLegalTransition('RUNNING', 'STOPPING'), true);
  assert.equal(isLegalTransition('DELETED', 'IDLE'), false);
  assert.throws(() => assertTransition('1234567', 'RUNNING', 'DELETING'), (e: unknown) => e instanceof MediaEngineError && e.code === 'ILLEGAL_TRANSITION' && /RUNNING → DELETING/.test(e.message));
});
