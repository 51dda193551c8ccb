import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogue } from '../events/catalogue.ts';
import { checkContracts, generateContracts } from './generate.ts';

test('committed contracts are exactly what the code generates', () => {
  assert.deepEqual(checkContracts(), []);
});

test('generation is deterministic', () => {
  assert.deepEqual([...generateContracts()], [...generateContracts()]);
});

test('the OpenAPI document is 3.1 and has every path of the original plan', () => {
  const text = generateContracts().get('openapi.json')!;
  const doc = JSON.parse(text) as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
    components: { schemas: Record<string, { properties: Record<string, unknown> }> };
  };
  assert.equal(doc.openapi, '3.1.0');
  const expected: [string, string][] = [
    ['/api/destinations', 'post'],
    ['/api/destinations', 'get'],
    ['/api/destinations/{id}', 'get'],
    ['/api/destinations/{id}', 'put'],
    ['/api/destinations/{id}', 'delete'],
    ['/api/destinations/{id}/start', 'post'],
    ['/api/destinations/{id}/stop', 'post'],
    ['/api/destinations/{id}/metrics', 'get'],
    ['/api/mediaconnect/flow/status', 'get'],
    ['/api/admin/platforms', 'get'],
    ['/api/admin/platforms', 'post'],
    ['/api/admin/platforms/{id}', 'put'],
    ['/api/admin/platforms/{id}', 'delete'],
    ['/api/admin/presets', 'get'],
    ['/api/admin/presets', 'post'],
    ['/api/admin/presets/{id}', 'put'],
    ['/api/admin/presets/{id}', 'delete'],
    ['/api/presets', 'get'],
    ['/api/health', 'get'],
    ['/api/openapi.json', 'get'],
    ['/api/events', 'get'],
  ];
  for (const [path, method] of expected) assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
  // The stream key is write-only: a request field, never part of the Destination response.
  assert.equal('streamKey' in doc.components.schemas.Destination!.properties, false);
});

test('one JSON Schema per event and version, rejecting unknown members', () => {
  const files = generateContracts();
  for (const def of catalogue) {
    const path = `events/${def.source}/${def.name}.v${def.version}.schema.json`;
    const schema = JSON.parse(files.get(path) ?? 'null') as { additionalProperties?: boolean; required?: string[] } | null;
    assert.ok(schema, `${path} exists`);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required?.sort(), ['correlationId', 'data', 'id', 'occurredAt', 'version']);
  }
});
