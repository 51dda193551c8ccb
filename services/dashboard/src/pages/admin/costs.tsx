/**
 * Costs (admins): month to date and the projection to month end, per destination, per platform and
 * per service line (idle, redundancy and shared rows of their own), the plan's fixed design for the
 * same usage (AWS), the monthly budget (set it here), and the FOCUS CSV of the usage sessions.
 * Every figure is the API's (GET /api/cost): the page computes nothing.
 */
import { useEffect, useState } from 'preact/hooks';
import { fieldErrors, problemOf } from '../../api/client.ts';
import type { Budget, CostReport, CostRow, Problem } from '../../api/types.ts';
import { described, Field, ProblemView } from '../../components/common.tsx';
import { api } from '../../state/session.ts';

const usd = (s: string): string => `$${Number(s).toFixed(2)}`;

function Rows({ title, id, rows }: { title: string; id: string; rows: CostRow[] }) {
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {rows.length === 0 ? (
        <p class="empty">Nothing this month yet.</p>
      ) : (
        <table class="cost-table">
          <thead>
            <tr>
              <th scope="col">What</th>
              <th scope="col" class="num">
                Cost
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <td>
                  {r.label}
                  {r.estimated ? <span class="muted"> (estimated)</span> : null}
                </td>
                <td class="num">{usd(r.cost)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function CostsPage() {
  const [report, setReport] = useState<CostReport | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [amount, setAmount] = useState('');
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState(false);

  const load = async (): Promise<void> => {
    try {
      const [r, b] = await Promise.all([api.get<CostReport>('/api/cost'), api.get<Budget>('/api/admin/cost/budget')]);
      setReport(r);
      if (b.budget && amount === '') setAmount(String(Number(b.budget.amount)));
      setProblem(null);
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  useEffect(() => void load(), []);

  const saveBudget = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    setFormProblem(null);
    setSaved(false);
    try {
      await api.put<Budget>('/api/admin/cost/budget', { amount: Number(amount) });
      setSaved(true);
      await load();
    } catch (err) {
      setFormProblem(problemOf(err));
    }
  };

  const downloadCsv = async (): Promise<void> => {
    try {
      // The token stays in the Authorization header: fetch the CSV, then hand the browser a blob.
      const csv = await api.text('/api/cost/sessions?format=csv');
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      a.download = `fanout-usage-sessions-${report?.month ?? 'month'}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (err) {
      setProblem(problemOf(err));
    }
  };

  const errs = fieldErrors(formProblem, ['amount']);
  if (!report) return problem ? <ProblemView problem={problem} /> : <p role="status">Loading…</p>;
  const b = report.budget;
  return (
    <>
      <ProblemView problem={problem} />
      <section class="card" aria-labelledby="cost-month-title">
        <h2 id="cost-month-title">
          {report.month} ({report.timeZone})
        </h2>
        <dl class="facts">
          <div>
            <dt>Month to date</dt>
            <dd data-testid="cost-mtd">{usd(report.monthToDate)}</dd>
          </div>
          <div>
            <dt>Projected by month end</dt>
            <dd data-testid="cost-projection">{usd(report.projection.total)}</dd>
          </div>
          <div>
            <dt>Open sessions</dt>
            <dd>{report.openSessions}</dd>
          </div>
          {b ? (
            <div>
              <dt>Budget</dt>
              <dd data-testid="cost-budget">
                {usd(b.amount)}: {b.usedPercent} % used, {b.projectedPercent} % projected
                {b.crossed.length ? ` (crossed ${b.crossed.join(' %, ')} %)` : ''}
              </dd>
            </div>
          ) : null}
          {report.fixedDesign ? (
            <div>
              <dt>The plan's fixed design, same usage</dt>
              <dd>
                {usd(report.fixedDesign.total)} (saving {usd(report.fixedDesign.saving)})
              </dd>
            </div>
          ) : report.fixedDesignNotApplicable ? (
            <div>
              <dt>The plan's fixed design, same usage</dt>
              <dd data-testid="cost-fixed-design-na">Does not apply: {report.fixedDesignNotApplicable.detail}</dd>
            </div>
          ) : null}
        </dl>
        <details>
          <summary>How this is computed</summary>
          <p class="muted">{report.computation}</p>
          {report.estimated ? <p class="muted">Some rates are estimates (see docs/cost.md); admins can override any rate.</p> : null}
          {report.missingRates.length ? <p class="muted">Rates missing: {report.missingRates.join(', ')}</p> : null}
        </details>
        <div class="actions">
          <button type="button" class="btn" onClick={() => void downloadCsv()}>
            Download the FOCUS CSV
          </button>
        </div>
      </section>
      <Rows title="Per destination" id="cost-dest-title" rows={report.byDestination} />
      <Rows title="Per platform" id="cost-platform-title" rows={report.byPlatform} />
      <Rows title="Per service line" id="cost-line-title" rows={report.byServiceLine} />
      <form class="card" onSubmit={(e) => void saveBudget(e)} noValidate aria-labelledby="budget-title">
        <h2 id="budget-title">Monthly budget</h2>
        <p class="muted">An alert (BudgetThresholdCrossed) goes out once when the projection reaches 80 % and once at 100 % in a month.</p>
        <div class="form-grid">
          <Field id="budget-amount" label="Budget (US dollars per month)" error={errs.amount}>
            <input id="budget-amount" type="number" min="1" step="1" inputMode="decimal" value={amount} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} {...described('budget-amount', errs.amount)} />
          </Field>
        </div>
        {formProblem && !errs.amount ? <ProblemView problem={formProblem} /> : null}
        {saved ? (
          <p class="banner banner-ok" role="status">
            Budget saved.
          </p>
        ) : null}
        <div class="actions">
          <button type="submit" class="btn btn-primary">
            Save budget
          </button>
        </div>
      </form>
    </>
  );
}
