/**
 * docs/cost.md quotes the estimator's figures for the plan's scenario; this keeps them true: each
 * figure is recomputed here and must appear in the page.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_RATE_TABLE } from './default-rates.ts';
import { estimate, fixedDesignEstimate, planAsWritten } from './estimator.ts';
import { formatMicros } from './money.ts';
import { PLAN_SCENARIO } from './testing/fixtures.ts';

const doc = readFileSync(new URL('../../../../docs/cost.md', import.meta.url), 'utf8');
const usd = (micros: number) => `$${formatMicros(micros, 2)}`;

test('docs/cost.md quotes the estimator', () => {
  const t = DEFAULT_RATE_TABLE;
  const fanout = estimate(PLAN_SCENARIO, t);
  const fixed = fixedDesignEstimate(PLAN_SCENARIO, t);
  const five = { ...PLAN_SCENARIO, destinations: [...PLAN_SCENARIO.destinations, { label: 'YouTube 2', platform: 'youtube', encode: PLAN_SCENARIO.destinations[0]!.encode }] };
  const figures: [string, number][] = [
    ['plan total', planAsWritten(t).totalMicros],
    ['Fanout total', fanout.totalMicros],
    ['fixed total', fixed.totalMicros],
    ['difference', fixed.totalMicros - fanout.totalMicros],
    ['five destinations, Fanout', estimate(five, t).totalMicros],
    ['five destinations, fixed', fixedDesignEstimate(five, t).totalMicros],
    ['no primary', estimate({ ...PLAN_SCENARIO, primary: false }, t).totalMicros],
    ['backup input', estimate({ ...PLAN_SCENARIO, backupInput: true }, t).totalMicros],
    ['idle 10 h', estimate({ ...PLAN_SCENARIO, idleHoursPerDestination: 10 }, t).totalMicros],
    ['730 h month', estimate({ ...PLAN_SCENARIO, monthHours: 730 }, t).totalMicros],
    ['the primary with MediaPackage', fanout.lines.filter((l) => l.resourceName === 'primary output').reduce((s, l) => s + l.costMicros, 0)],
  ];
  for (const [what, micros] of figures) assert.ok(doc.includes(usd(micros)), `${what}: ${usd(micros)} is in docs/cost.md`);
});
