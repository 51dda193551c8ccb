import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChannelStateSchema, type ChannelState } from '../../../../events/channel-provisioner/common.ts';
import { CHANNEL_OPERATIONS, SETTLES_TO } from '../../port/channel-machine.ts';
import { EngineError } from '../../port/errors.ts';
import { assertTransition, CHANNEL_TRANSITIONS, isLegalTransition, LOCAL_ENGINE_ERRORS, MediaEngineError } from './channel-lifecycle.ts';

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
  assert.throws(
    () => assertTransition('1234567', 'RUNNING', 'DELETING'),
    (e: unknown) => e instanceof MediaEngineError && e.code === 'ILLEGAL_TRANSITION' && /RUNNING → DELETING/.test(e.message),
  );
});

test("every local transition is one the port's MediaLive channel machine makes (port/channel-machine.ts)", () => {
  const ops = Object.values(CHANNEL_OPERATIONS);
  for (const [from, tos] of Object.entries(CHANNEL_TRANSITIONS) as [ChannelState, readonly ChannelState[]][]) {
    for (const to of tos) {
      const byCall = ops.some((op) => op.accepts.includes(from) && op.enters === to);
      const settles = SETTLES_TO[from] === to;
      // The local engine shows the update (IDLE → IDLE in the machine) as a passing UPDATING.
      const updating = (from === 'IDLE' && to === 'UPDATING') || (from === 'UPDATING' && to === CHANNEL_OPERATIONS.update.enters);
      assert.ok(byCall || settles || updating, `${from} → ${to} is not in the port's machine`);
    }
  }
});

test("the local engine refuses with the port's EngineError", () => {
  const e = new MediaEngineError('CHANNEL_NOT_IDLE', 'channel 1 is RUNNING');
  assert.ok(e instanceof EngineError);
  assert.equal(e.hint, LOCAL_ENGINE_ERRORS.CHANNEL_NOT_IDLE.hint);
  assert.equal(e.retryable, false);
});
