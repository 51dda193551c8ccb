/**
 * The dashboards know the API only through its contract: every field their types
 * (src/api/types.ts) name must be in contracts/openapi.json, the document generated from the
 * schemas that validate the API's requests and answers. A field renamed or removed in the API
 * fails here, not in a browser. The interfaces are read with the TypeScript compiler itself.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import ts from 'typescript';

type Schema = { properties?: Record<string, Schema>; items?: Schema; $ref?: string; anyOf?: Schema[]; allOf?: Schema[] };
const openapi = JSON.parse(readFileSync(new URL('../../../contracts/openapi.json', import.meta.url), 'utf8')) as { components: { schemas: Record<string, Schema> } };
const schemas = openapi.components.schemas;

/** Interface name in types.ts → where its fields are in the contract. */
const WHERE: Record<string, () => Schema> = {
  LastError: () => schemas.LastError!,
  Destination: () => schemas.Destination!,
  ChannelMetrics: () => deref(schemas.DestinationMetrics!.properties!.metrics!),
  DestinationMetrics: () => schemas.DestinationMetrics!,
  PlatformLimits: () => schemas.PlatformLimits!,
  Platform: () => schemas.Platform!,
  VideoSettings: () => schemas.VideoSettings!,
  AudioSettings: () => schemas.AudioSettings!,
  Preset: () => schemas.Preset!,
  FlowStatus: () => schemas.FlowStatus!,
  InputHealth: () => schemas.InputHealth!,
  InputPair: () => deref(schemas.InputHealth!.properties!.inputs!),
  FailoverSettings: () => schemas.FailoverSettings!,
  InputSwitch: () => schemas.InputSwitch!,
  BackupTestResult: () => schemas.BackupTestResult!,
  Token: () => schemas.Token!,
  Session: () => schemas.Session!,
  NewToken: () => schemas.NewToken!,
  Health: () => schemas.Health!,
  EngineProcess: () => deref(schemas.EngineProcessList!.properties!.processes!).items!,
  Orphan: () => schemas.Orphan!,
  Mismatch: () => schemas.ChannelMismatch!,
  ValidationReport: () => schemas.ChannelValidation!,
  CleanedResource: () => schemas.CleanedResource!,
  CleanupResult: () => schemas.CleanupResult!,
  Problem: () => schemas.Problem!,
  CostRow: () => schemas.CostRow!,
  CostReportBudget: () => deref(schemas.CostReport!.properties!.budget!),
  CostReport: () => schemas.CostReport!,
  Budget: () => schemas.Budget!,
  NotificationChannel: () => schemas.NotificationChannel!,
  NotificationChannelCreated: () => schemas.NotificationChannelCreated!,
  NotificationDelivery: () => schemas.NotificationDelivery!,
  NotificationAlerts: () => schemas.NotificationAlerts!,
};

/** Extension members a schema allows beyond its properties (problem documents: RFC 9457 section 3.2, docs/errors.md). */
const EXTENSIONS: Record<string, string[]> = { Problem: ['errors', 'usedBy'] };

function deref(s: Schema): Schema {
  if (s.$ref) return schemas[s.$ref.split('/').pop()!]!;
  const real = s.anyOf?.find((x) => x.properties || x.$ref || x.items);
  return real ? deref(real) : s;
}

/** A schema's property names, through $ref and allOf (NewToken = Token + token). */
function propsOf(s: Schema): string[] {
  const d = deref(s);
  return [...Object.keys(d.properties ?? {}), ...(d.allOf ?? []).flatMap(propsOf)];
}

function interfaces(): Map<string, { fields: string[]; extendsNames: string[] }> {
  const file = new URL('../src/api/types.ts', import.meta.url);
  const src = ts.createSourceFile('types.ts', readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = new Map<string, { fields: string[]; extendsNames: string[] }>();
  src.forEachChild((n) => {
    if (!ts.isInterfaceDeclaration(n)) return;
    const fields = n.members.filter(ts.isPropertySignature).map((m) => m.name.getText(src));
    const extendsNames = (n.heritageClauses ?? []).flatMap((h) => h.types.map((t) => t.expression.getText(src)));
    out.set(n.name.text, { fields, extendsNames });
  });
  return out;
}

test('every field the dashboards read is in the API contract', () => {
  const found = interfaces();
  assert.deepEqual([...found.keys()].sort(), Object.keys(WHERE).sort(), 'each interface of types.ts is mapped to its contract schema');
  for (const [name, { fields }] of found) {
    const props = [...propsOf(WHERE[name]!()), ...(EXTENSIONS[name] ?? [])];
    assert.ok(props.length > 0, `${name}: schema found`);
    for (const f of fields) assert.ok(props.includes(f), `${name}.${f} is not in contracts/openapi.json (has: ${props.join(', ')})`);
  }
});

test('and the contract cannot drop a field the dashboards need without this test noticing', () => {
  // Guard against a vacuous pass: the destination's fields are checked one by one.
  const destination = interfaces().get('Destination')!.fields;
  assert.ok(destination.includes('streamKeyLast4') && destination.includes('lastError') && destination.length >= 14);
});
