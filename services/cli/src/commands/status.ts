/**
 * `fanout status`: the whole picture at a glance: is Fanout healthy, is the encoder's feed
 * arriving (and how well), and how many destinations run. Each part comes from its public
 * endpoint; the input's health is absent where no media engine runs (503 ENGINE_UNAVAILABLE).
 */
import type { Command } from 'commander';
import type { Ctx } from '../context.ts';
import { CliError } from '../errors.ts';
import { duration } from '../output.ts';
import type { FlowStatus, Health, InputHealth } from '../types.ts';
import { listDestinations } from './destinations.ts';

export function registerStatusCommand(program: Command, ctx: () => Ctx): void {
  program
    .command('status')
    .description('health, the contribution feed, destinations running')
    .action(async () => {
      const c = ctx();
      const api = c.api();
      api.requireToken();
      // Health answers 503 with its body when degraded: still show it.
      const health = await api.request<Health>('GET', '/api/health', { anonymous: true }).then(
        (r) => r.body,
        (err: unknown) => {
          if (err instanceof CliError && err.problem.status === 503 && err.problem.checks) return err.problem as unknown as Health;
          throw err;
        },
      );
      const [flow, input, destinations] = await Promise.all([
        api.request<FlowStatus>('GET', '/api/mediaconnect/flow/status').then((r) => r.body),
        api.request<InputHealth>('GET', '/api/mediaconnect/inputs/health').then(
          (r) => r.body,
          (err: unknown) => {
            if (err instanceof CliError && err.problem.code === 'ENGINE_UNAVAILABLE') return null;
            throw err;
          },
        ),
        listDestinations(api),
      ]);
      const byStatus: Record<string, number> = {};
      for (const d of destinations) byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
      const running = byStatus.running ?? 0;
      if (c.io.json) {
        c.io.printJson({ url: api.conn.url, profile: api.conn.profile, health, flow, input, destinations: { total: destinations.length, running, byStatus } });
        return;
      }
      const k = c.io.c;
      const healthText =
        health.status === 'ok'
          ? k.green('ok')
          : k.red(
              `degraded (${Object.entries(health.checks)
                .filter(([, v]) => !v.startsWith('ok'))
                .map(([n, v]) => `${n}: ${v}`)
                .join(', ')})`,
            );
      const since = (iso: string | null): string => (iso ? ` since ${iso} (${duration((Date.now() - Date.parse(iso)) / 1000)})` : '');
      let inputText = k.dim('no media engine here');
      if (input) {
        inputText = input.connected ? `${k.green('connected')} from ${input.sourceAddress ?? '?'}${since(input.connectedSince)}` : k.yellow('not connected: waiting for the encoder');
        if (input.connected)
          inputText += `\n${' '.repeat(14)}${input.bitrateInKbps === null ? '-' : `${Math.round(input.bitrateInKbps)} kbit/s`}, loss ${input.packetLossPercent ?? '-'}%, retransmits ${input.retransmits ?? '-'}, RTT ${input.rttMs ?? '-'} ms`;
        if (input.lastError) inputText += `\n${' '.repeat(14)}${k.red(input.lastError.code)}: ${input.lastError.message} (${input.lastError.hint})`;
        // With a backup input: which one feeds the outputs (details: `fanout input`).
        if (input.active === 'backup') inputText += `\n${' '.repeat(14)}${k.yellow('on the backup input')}`;
        if (input.active === 'slate') inputText += `\n${' '.repeat(14)}${k.red(`slate on air${input.slate ? `: the destinations stop at ${input.slate.stopsAt}` : ''}`)}`;
      }
      const others = Object.entries(byStatus)
        .filter(([s]) => s !== 'running')
        .map(([s, n]) => `${n} ${s}`);
      c.io.details([
        ['fanout', `${api.conn.url}  ${healthText}  ${k.dim(`${health.runtime}, v${health.version}`)}`],
        ['flow', `${flow.state}${flow.outputs !== null ? `, ${flow.outputs} output${flow.outputs === 1 ? '' : 's'}` : ''}`],
        ['input', inputText],
        ['destinations', `${running === 0 ? '0' : k.green(String(running))} of ${destinations.length} running${others.length ? k.dim(` (${others.join(', ')})`) : ''}`],
      ]);
    });
}
