/** The memory engine's failover rules beyond the contract: revertive switch back, the slate and its timeout, manual mode. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../local/process/fixtures/wait-for.ts';
import type { NativeEngineEvent } from '../port/ports.ts';
import { MemoryEngine } from './memory-engine.ts';

function engine() {
  const events: NativeEngineEvent[] = [];
  const e = new MemoryEngine({ sink: (x) => events.push(x), transitionMs: 5 });
  const switches = () => events.filter((x) => x.detailType === 'MediaConnect Source Failover Switch').map((x) => `${x.detail.previous_source}>${x.detail.current_source}:${x.detail.reason}`);
  return { e, switches };
}

test('revertive: back to the main once it has been clean for errorClearTimeMs', async () => {
  const { e, switches } = engine();
  await e.setFailover({ mode: 'automatic', inputLossThresholdMs: 50, errorClearTimeMs: 150, slateTimeoutMs: 60_000 });
  e.connectInput('main');
  e.connectInput('backup');
  e.loseInput('main');
  await waitFor('on backup', async () => (await e.inputsHealth()).active === 'backup', { timeoutMs: 2000 });
  e.connectInput('main');
  await waitFor('back on main', async () => (await e.inputsHealth()).active === 'main', { timeoutMs: 2000 });
  assert.deepEqual(switches(), ['main>backup:input-loss', 'backup>main:recovered']);
  await e.close();
});

test('non-revertive stays on the backup; no input at all puts the slate on air, then it times out', async () => {
  const { e, switches } = engine();
  await e.setFailover({ mode: 'automatic', inputLossThresholdMs: 50, errorClearTimeMs: null, slateTimeoutMs: 200 });
  e.connectInput('main');
  e.connectInput('backup');
  e.loseInput('main');
  await waitFor('on backup', async () => (await e.inputsHealth()).active === 'backup', { timeoutMs: 2000 });
  e.connectInput('main');
  e.loseInput('backup');
  await waitFor('main again after the backup was lost', async () => (await e.inputsHealth()).active === 'main', { timeoutMs: 2000 });
  e.loseInput('main');
  await waitFor('slate', async () => (await e.inputsHealth()).active === 'slate', { timeoutMs: 2000 });
  const h = await e.inputsHealth();
  assert.ok(h.slate && Date.parse(h.slate.stopsAt) > Date.parse(h.slate.since));
  await waitFor('slate timeout', () => switches().includes('slate>slate:slate-timeout'), { timeoutMs: 2000 });
  e.connectInput('backup');
  await waitFor('the backup replaces the slate', async () => (await e.inputsHealth()).active === 'backup', { timeoutMs: 2000 });
  assert.equal((await e.inputsHealth()).slate, null);
  assert.deepEqual(switches(), ['main>backup:input-loss', 'backup>main:input-loss', 'main>slate:input-loss', 'slate>slate:slate-timeout', 'slate>backup:recovered']);
  await e.close();
});

test("manual mode: a lost input goes to the slate, not the other input; the switch is the operator's; no backup configured", async () => {
  const { e, switches } = engine();
  await e.setFailover({ mode: 'manual', inputLossThresholdMs: 50, errorClearTimeMs: 100, slateTimeoutMs: 60_000 });
  e.connectInput('main');
  e.connectInput('backup');
  e.loseInput('main');
  await waitFor('slate', async () => (await e.inputsHealth()).active === 'slate', { timeoutMs: 2000 });
  await e.switchInput('backup');
  assert.equal((await e.inputsHealth()).active, 'backup');
  assert.deepEqual(switches(), ['main>slate:input-loss', 'slate>backup:manual']);
  await e.close();

  const solo = new MemoryEngine({ sink: () => {}, backupInput: false });
  assert.equal((await solo.inputsHealth()).inputs.backup.configured, false);
  await assert.rejects(solo.switchInput('backup'), /no backup input is configured/);
  assert.deepEqual((await solo.testBackupInput()).problems, ['no backup input is configured']);
  await solo.close();
});
