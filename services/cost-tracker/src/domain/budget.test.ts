import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BudgetConfigSchema, EMPTY_BUDGET_STATE, evaluateBudget, type BudgetFigures, type BudgetState } from './budget.ts';

const cfg = BudgetConfigSchema.parse({ budgetMicros: 400_000_000, timeZone: 'Europe/Berlin' }); // $400, 80 % and 100 %
const fig = (month: string, mtd: number, projection: number, elapsedHours = 100): BudgetFigures => ({
  month,
  monthToDateMicros: mtd * 1e6,
  projectionMicros: projection * 1e6,
  elapsedHours,
  projectionComputation: 'test projection',
  at: `${month}-15T12:00:00.000Z`,
});

function run(steps: BudgetFigures[]): { crossed: [string, number, string][]; state: BudgetState } {
  let state = EMPTY_BUDGET_STATE;
  const crossed: [string, number, string][] = [];
  for (const f of steps) {
    const r = evaluateBudget(cfg, state, f);
    state = r.state;
    crossed.push(...r.crossings.map((c): [string, number, string] => [c.month, c.thresholdPercent, c.basis]));
  }
  return { crossed, state };
}

describe('budget thresholds', () => {
  const cases: { name: string; steps: BudgetFigures[]; expected: [string, number, string][] }[] = [
    { name: 'below 80 %: nothing', steps: [fig('2026-11', 100, 319.99)], expected: [] },
    { name: 'projection reaches 80 % ($320)', steps: [fig('2026-11', 100, 320)], expected: [['2026-11', 80, 'projection']] },
    {
      name: 'both at once, lowest first',
      steps: [fig('2026-11', 100, 450)],
      expected: [
        ['2026-11', 80, 'projection'],
        ['2026-11', 100, 'projection'],
      ],
    },
    {
      name: 'once per threshold per month: dipping below and rising again crosses nothing new',
      steps: [fig('2026-11', 100, 330), fig('2026-11', 110, 300), fig('2026-11', 120, 340), fig('2026-11', 130, 401), fig('2026-11', 140, 420)],
      expected: [
        ['2026-11', 80, 'projection'],
        ['2026-11', 100, 'projection'],
      ],
    },
    {
      name: 'a new month starts with nothing crossed',
      steps: [fig('2026-11', 100, 330), fig('2026-12', 10, 350)],
      expected: [
        ['2026-11', 80, 'projection'],
        ['2026-12', 80, 'projection'],
      ],
    },
    {
      name: 'early in the month only the month to date crosses (projection ignored before 24 h)',
      steps: [fig('2026-11', 5, 900, 6), fig('2026-11', 330, 900, 10)],
      // $5 after 6 h projects to $900: not yet believed; $330 spent after 10 h is a fact (80 %), 100 % waits.
      expected: [['2026-11', 80, 'month-to-date']],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(run(c.steps).crossed, c.expected));

  test('the crossing says how it was computed', () => {
    const r = evaluateBudget(cfg, EMPTY_BUDGET_STATE, fig('2026-11', 100, 320));
    assert.equal(r.crossings[0]!.thresholdMicros, 320_000_000);
    assert.match(r.crossings[0]!.computation, /^projection \$320\.000000 ≥ 80 % of the \$400\.000000 budget \(\$320\.000000\); test projection$/);
    assert.deepEqual(r.state, { month: '2026-11', crossed: [80] });
  });

  test('a bad budget is refused by the schema', () => {
    assert.equal(BudgetConfigSchema.safeParse({ budgetMicros: 0 }).success, false);
    assert.equal(BudgetConfigSchema.safeParse({ budgetMicros: 1, thresholdsPercent: [] }).success, false);
  });
});
