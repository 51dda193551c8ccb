/**
 * The local runtime and the AWS runtime offer the same handlers: every function of serverless.yml
 * names a Lambda entry (shared/runtimes/aws/<service>.ts) that exports its handler, and the local
 * service registered for that entry has a factory under the same name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { loadServerlessConfig, repoRoot } from '../serverless-config.ts';
import { localServices } from './index.ts';

test('every serverless.yml function has its Lambda export and the same-named local handler factory', async () => {
  const w = loadServerlessConfig();
  const fns = [...w.sqsFunctions, ...w.scheduledFunctions, ...w.httpApiFunctions];
  assert.ok(fns.length >= 8, `${fns.length} functions`);
  for (const fn of fns) {
    assert.match(fn.handler.file, /^shared\/runtimes\/aws\/[a-z-]+\.ts$/, `${fn.name}: handlers are the AWS runtime's entries`);
    const entry = (await import(pathToFileURL(join(repoRoot, fn.handler.file)).href)) as Record<string, unknown>;
    assert.equal(typeof entry[fn.handler.exportName], 'function', `${fn.name}: ${fn.handler.file} exports ${fn.handler.exportName}`);
    assert.equal(typeof localServices[fn.handler.file]?.handlers[fn.handler.exportName], 'function', `${fn.name}: local factory`);
  }
  // And nothing local that AWS does not have: each local service's handlers are its entry's exports.
  for (const [file, service] of Object.entries(localServices)) {
    const entry = (await import(pathToFileURL(join(repoRoot, file)).href)) as Record<string, unknown>;
    for (const name of Object.keys(service.handlers)) assert.equal(typeof entry[name], 'function', `${file} exports ${name}`);
  }
});
