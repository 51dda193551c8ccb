import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestRuntime, type TestRuntime } from './local.ts';

let rt: TestRuntime;
before(async () => {
  rt = await startTestRuntime();
});
after(async () => {
  await rt.close();
});

test('the local runtime answers health without a token', async () => {
  const res = await rt.api('GET', '/api/health', { token: null });
  assert.equal(res.status, 200);
  assert.equal(res.json.checks.store, 'ok');
});
