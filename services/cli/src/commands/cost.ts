/**
 * `fanout cost` (month to date, projection and per destination, from GET /api/cost) and
 * `fanout cost sessions [--csv]` (GET /api/cost/sessions; `--csv` writes the FinOps FOCUS CSV the
 * API makes, as it is, for a spreadsheet or a finance tool). A client of the API only.
 */
import type { Command } from 'commander';
import type { Ctx } from '../context.ts';

interface Row {
  key: string;
  label: string;
  cost: string;
  estimated: boolean;
}
interface CostReport {
  month: string;
  timeZone: string;
  monthToDate: string;
  estimated: boolean;
  projection: { total: string; computation: string };
  byDestination: Row[];
  byPlatform: Row[];
  budget: { amount: string; usedPercent: number; projectedPercent: number; crossed: number[] } | null;
  fixedDesign: { total: string; saving: string } | null;
  fixedDesignNotApplicable?: { reason: string; detail: string } | null;
}
interface Session {
  sessionId: string;
  resource: { kind: string; destinationId: string | null };
  kind: string;
  startedAt: string;
  endedAt: string | null;
  durationSeconds: number;
  destinationName: string | null;
  platform: string | null;
  cost: string;
  provisional: boolean;
}

const usd = (s: string) => `$${Number(s).toFixed(2)}`;

export function registerCostCommands(program: Command, ctx: () => Ctx): void {
  const cost = program
    .command('cost')
    .description('what Fanout costs: month to date, projection, per destination (`cost sessions` for the usage sessions)')
    .option('--month <YYYY-MM>', 'another month (of the configured time zone)')
    .action(async (o: { month?: string }) => {
      const c = ctx();
      const { body } = await c.api().request<CostReport>('GET', '/api/cost', { query: { month: o.month } });
      if (c.io.json) return c.io.printJson(body);
      c.io.out(`${body.month} (${body.timeZone}): ${usd(body.monthToDate)} so far, projected ${usd(body.projection.total)} by month end${body.estimated ? ' (estimated rates)' : ''}`);
      if (body.budget) c.io.out(`budget ${usd(body.budget.amount)}: ${body.budget.usedPercent} % used, ${body.budget.projectedPercent} % projected`);
      if (body.fixedDesign) c.io.out(`the plan's fixed design would have cost ${usd(body.fixedDesign.total)} (saving ${usd(body.fixedDesign.saving)})`);
      else if (body.fixedDesignNotApplicable) c.io.out(`the plan's fixed design: does not apply (${body.fixedDesignNotApplicable.detail})`);
      c.io.out('');
      c.io.table(
        ['DESTINATION', 'COST', 'ID'],
        body.byDestination.map((r) => [r.label, usd(r.cost), r.key]),
        'No costs recorded this month.',
      );
    });

  cost
    .command('sessions')
    .description('usage sessions with their cost; --csv: FinOps FOCUS rows on stdout')
    .option('--csv', 'the FOCUS CSV, as the API writes it')
    .option('--from <instant>', 'sessions ending at or after (ISO 8601)')
    .option('--to <instant>', 'sessions starting before (ISO 8601)')
    .option('--destination <id>', 'one destination')
    .option('--platform <platform>', 'one platform')
    .action(async (o: { csv?: boolean; from?: string; to?: string; destination?: string; platform?: string }) => {
      const c = ctx();
      const query = { from: o.from, to: o.to, destinationId: o.destination, platform: o.platform };
      if (o.csv) {
        const { body } = await c.api().request<string>('GET', '/api/cost/sessions', { query: { ...query, format: 'csv' }, text: true });
        return c.io.write(body);
      }
      const { body } = await c.api().request<{ total: string; sessions: Session[] }>('GET', '/api/cost/sessions', { query });
      if (c.io.json) return c.io.printJson(body);
      c.io.table(
        ['RESOURCE', 'KIND', 'STARTED', 'ENDED', 'COST', 'DESTINATION'],
        body.sessions.map((s) => [s.resource.kind, s.kind, s.startedAt, s.endedAt ?? (s.provisional ? 'open' : ''), usd(s.cost), s.destinationName ?? s.resource.destinationId ?? '']),
        'No usage sessions.',
      );
    });
}
