/**
 * Every `lastError` code the code can produce is documented in docs/errors.md ("Destination and
 * input errors"), and nothing is documented there that the code cannot produce (ADR 0022).
 *
 * The set is derived from the sources: the engines' catalogs (the port's PORT_ERRORS, the local
 * engine's PROCESS_ERROR_CATALOG and LOCAL_ENGINE_ERRORS, the AWS engine's AWS_ENGINE_ERRORS, all
 * typed, so an engine cannot throw a code outside them), the services' own fallbacks, and a scan of
 * the engine and service sources for any other `code: '...'` literal, so a code written inline
 * somewhere new fails here until it is catalogued and documented. The API's problem codes (the
 * registry) are checked against their own table by shared/errors/registry.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CHANNEL_ALERT, alertToError } from '../services/channel-provisioner/src/domain/channel-spec.ts';
import { CHANNEL_OPERATIONS, channelFailure, channelFailureCode } from '../services/channel-provisioner/src/app/provisioner.ts';
import { FLOW_OUTPUT_FAILED, outputFailure } from '../services/flow-output/src/app/flow-output-service.ts';
import { AWS_ENGINE_ERRORS, AwsEngineError, QUOTAS } from '../shared/engines/aws/errors.ts';
import { LOCAL_ENGINE_ERRORS, MediaEngineError } from '../shared/engines/local/engine/channel-lifecycle.ts';
import { PROCESS_ERROR_CATALOG } from '../shared/engines/local/process/stderr-classifier.ts';
import { EngineError, PORT_ERRORS, portError } from '../shared/engines/port/errors.ts';
import { errorRegistry } from '../shared/errors/registry.ts';

const root = new URL('..', import.meta.url).pathname;
const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
const section = doc.split('\n## Destination and input errors')[1]?.split('\n## ')[0] ?? '';

/** code → its documented rows (a code several engines share, CHANNEL_NOT_IDLE, has a row in each engine's table) */
const rows = new Map<string, string[]>();
for (const m of section.matchAll(/^\| `([A-Z0-9_]+)` \|(.*)$/gm)) rows.set(m[1]!, [...(rows.get(m[1]!) ?? []), m[2]!]);

const catalogued: Record<string, Record<string, object>> = { PORT_ERRORS, PROCESS_ERROR_CATALOG, LOCAL_ENGINE_ERRORS, AWS_ENGINE_ERRORS };
const servicesOwn = [...CHANNEL_OPERATIONS.map(channelFailureCode), FLOW_OUTPUT_FAILED, CHANNEL_ALERT];
const producible = new Set([...Object.values(catalogued).flatMap((c) => Object.keys(c)), ...servicesOwn]);

/** Production sources that build engine errors or `lastError`s. */
function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(join(root, dir))) {
    const rel = join(dir, e);
    if (e === 'fixtures' || e === 'node_modules') continue;
    if (statSync(join(root, rel)).isDirectory()) sources(rel, out);
    else if (e.endsWith('.ts') && !e.endsWith('.test.ts') && e !== 'testing.ts' && !e.startsWith('aws-fake') && !e.includes('contract')) out.push(rel);
  }
  return out;
}
// Where an engine error or a lastError is made: the engines, and the services that report engine results or set lastError.
const scanned = [...sources('shared/engines'), ...sources('services/channel-provisioner/src'), ...sources('services/flow-output/src'), ...sources('services/destination/src/app'), ...sources('services/destination/src/domain')];

describe('lastError codes', () => {
  test('the section exists and lists codes', () => {
    assert.ok(rows.size > 30, `docs/errors.md has the "Destination and input errors" tables (${rows.size} rows)`);
  });

  test('every code an engine or a service can put in lastError is documented', () => {
    const missing = [...producible].filter((c) => !rows.has(c));
    assert.deepEqual(missing, [], 'add these to docs/errors.md "Destination and input errors"');
  });

  test('nothing is documented there that the code cannot produce', () => {
    const extra = [...rows.keys()].filter((c) => !producible.has(c));
    assert.deepEqual(extra, [], 'these codes have no source');
  });

  test("each documented hint is the catalog's own (the docs say what the user will read)", () => {
    const esc = (s: string) => s.replaceAll('|', '\\|');
    for (const [name, catalog] of Object.entries(catalogued)) {
      for (const [code, spec] of Object.entries(catalog)) {
        const hint = (spec as { hint?: string }).hint;
        if (hint)
          assert.ok(
            rows.get(code)!.some((row) => row.includes(esc(hint))),
            `${name}.${code}: the documented hint is the catalog's`,
          );
      }
    }
  });

  test('no engine or service source writes a code outside the catalogs', () => {
    const found = new Map<string, string>();
    for (const file of scanned) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const m of text.matchAll(/\bcode: '([A-Z][A-Z0-9_]+)'/g)) found.set(m[1]!, file);
      // An EngineError is made through a catalogue: portError, AwsEngineError, MediaEngineError (their super() calls), never inline.
      if (file !== 'shared/engines/port/errors.ts') assert.doesNotMatch(text, /new EngineError\(/, `${file} makes an EngineError outside a catalogue`);
    }
    assert.ok(found.size > 5, "the scan sees the classifier's codes");
    for (const [code, file] of found) assert.ok(producible.has(code) || code in errorRegistry, `${code} (in ${file}) is catalogued and documented`);
  });
});

describe("lastError is the engine's error, unchanged", () => {
  const quota = new AwsEngineError('QUOTA_EXCEEDED', 'MediaLive CreateChannel (destination d-1) hit a limit: You have reached the limit of 5 channels', `Raise the quota in Service Quotas: ${QUOTAS.channels}.`);
  test("a channel operation: the engine's code, message and hint", () => {
    for (const op of CHANNEL_OPERATIONS) assert.deepEqual(channelFailure(op, quota), { code: 'QUOTA_EXCEEDED', message: quota.message, hint: quota.hint });
    const local = new MediaEngineError('OUTPUT_NOT_FOUND', 'channel 1: its flow output does not exist');
    assert.deepEqual(channelFailure('start', local), { code: 'OUTPUT_NOT_FOUND', message: local.message, hint: LOCAL_ENGINE_ERRORS.OUTPUT_NOT_FOUND.hint });
    assert.ok(local instanceof EngineError && quota instanceof EngineError, "both engines throw the port's type");
  });
  test("a failure that is not the engine's is CHANNEL_<OP>_FAILED", () => {
    assert.equal(channelFailure('create', new Error('preset gone')).code, 'CHANNEL_CREATE_FAILED');
    assert.equal(channelFailure('delete', 'x').code, 'CHANNEL_DELETE_FAILED');
  });
  test("a flow output: the engine's error, else FLOW_OUTPUT_FAILED", () => {
    assert.deepEqual(outputFailure(quota), quota.toLastError());
    assert.equal(outputFailure(new Error('?')).code, FLOW_OUTPUT_FAILED);
  });
  test('sizes are clipped to the schema (code 64, message and hint 500), nothing else changes', () => {
    const long = portError('ENGINE_UNAVAILABLE', 'm'.repeat(900));
    assert.equal(long.toLastError().message.length, 500);
    assert.equal(long.toLastError().hint, PORT_ERRORS.ENGINE_UNAVAILABLE.hint);
  });
  test("an alert that carries the local engine's classified error keeps it; an AWS alert is CHANNEL_ALERT", () => {
    const spec = PROCESS_ERROR_CATALOG.RTMP_STREAM_KEY_REJECTED;
    const fanoutError = { code: 'RTMP_STREAM_KEY_REJECTED', message: 'The RTMP server refused to let us publish', hint: spec.hint };
    assert.deepEqual(alertToError({ alert_type: 'RTMP_STREAM_KEY_REJECTED', message: 'x', fanout_error: fanoutError }), fanoutError);
    assert.equal(alertToError({ alert_type: 'RTMP Has No Audio/Video', message: 'y' }).code, CHANNEL_ALERT);
  });
});
