/**
 * `fanout input status | switch <main|backup> | test | failover [...]`: the main and backup
 * contribution inputs (issue 15), from GET /api/mediaconnect/inputs/health, POST .../inputs/switch,
 * POST .../inputs/backup/test and PUT .../inputs/failover (admin). A client of the API only.
 */
import { Argument, Option, type Command } from 'commander';
import type { Ctx } from '../context.ts';
import { cliError } from '../errors.ts';
import { duration } from '../output.ts';
import type { BackupTestResult, FailoverSettings, InputHealth, InputSwitch } from '../types.ts';

const HEALTH = '/api/mediaconnect/inputs/health';
const ago = (iso: string) => `${iso} (${duration(Math.max(0, (Date.now() - Date.parse(iso)) / 1000))} ago)`;
const switchText = (s: InputSwitch) => `${s.from ?? 'nothing'} → ${s.to} (${s.reason}) at ${ago(s.at)}`;
const settingsText = (s: FailoverSettings) =>
  `${s.mode}, loss after ${s.inputLossThresholdMs} ms, ${s.errorClearTimeMs === null ? 'non-revertive' : `back to main after ${s.errorClearTimeMs} ms clean`}, slate for ${s.slateTimeoutMs / 1000} s`;

function ms(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw cliError('CLI_USAGE', `${name} must be a whole number of milliseconds, not "${v}"`);
    return n;
  };
}

export function registerInputCommands(program: Command, ctx: () => Ctx): void {
  const input = program.command('input').description('the main and backup contribution inputs: status, switch, backup test, failover settings');

  input
    .command('status', { isDefault: true })
    .description("both inputs' health, which one is active, the mode, the last switch, the slate")
    .action(async () => {
      const c = ctx();
      const { body } = await c.api().request<InputHealth>('GET', HEALTH);
      if (c.io.json) return c.io.printJson(body);
      const k = c.io.c;
      const line = (h: InputHealth, configured = true) =>
        !configured
          ? k.dim('not configured')
          : h.connected
            ? `${k.green('connected')} from ${h.sourceAddress ?? '?'}${h.connectedSince ? ` since ${ago(h.connectedSince)}` : ''}, ${h.bitrateInKbps === null ? '-' : `${Math.round(h.bitrateInKbps)} kbit/s`}, loss ${h.packetLossPercent ?? '-'}%, RTT ${h.rttMs ?? '-'} ms${h.lastError ? `, ${k.red(h.lastError.code)}` : ''}`
            : `${k.yellow('not connected')}${h.lastError ? `: ${k.red(h.lastError.code)} ${h.lastError.message}` : ''}`;
      if (!body.inputs || !body.settings) {
        c.io.details([
          ['main', line(body)],
          ['backup', k.dim('this engine has no backup input')],
        ]);
        return;
      }
      const active = body.active ?? null;
      c.io.details([
        ['active', active === null ? k.dim('none yet') : active === 'slate' ? k.red('slate') : k.green(active)],
        ['main', line(body.inputs.main)],
        ['backup', line(body.inputs.backup, body.inputs.backup.configured)],
        ['failover', settingsText(body.settings)],
        ['last switch', body.lastSwitch ? switchText(body.lastSwitch) : k.dim('none')],
        ...(body.slate ? ([['slate', k.red(`on air since ${body.slate.since}; the destinations stop at ${body.slate.stopsAt}`)]] as [string, string][]) : []),
      ]);
    });

  input
    .command('switch')
    .description('make the main or the backup input the active one now')
    .addArgument(new Argument('<input>', 'main or backup').choices(['main', 'backup']))
    .action(async (to: 'main' | 'backup') => {
      const c = ctx();
      const { body } = await c.api().request<InputSwitch>('POST', '/api/mediaconnect/inputs/switch', { body: { to } });
      if (c.io.json) return c.io.printJson(body);
      c.io.out(`switched: ${switchText(body)}`);
    });

  input
    .command('test')
    .description('check that the backup input is connected and decodable, without switching to it')
    .action(async () => {
      const c = ctx();
      const { body } = await c.api().request<BackupTestResult>('POST', '/api/mediaconnect/inputs/backup/test');
      if (c.io.json) return c.io.printJson(body);
      const k = c.io.c;
      const ok = body.connected && body.decodable && body.problems.length === 0;
      c.io.details([
        ['backup', ok ? k.green('ready') : body.connected && body.decodable ? k.yellow('usable, with problems') : k.red(body.connected ? 'connected, not decodable' : 'not connected')],
        ['video', body.video ? `${body.video.codec} ${body.video.width}x${body.video.height}${body.video.frameRate ? ` ${body.video.frameRate} fps` : ''}` : '-'],
        ['audio', body.audio ? `${body.audio.codec}${body.audio.sampleRate ? ` ${body.audio.sampleRate} Hz` : ''}${body.audio.channels ? ` ${body.audio.channels} ch` : ''}` : '-'],
        ...body.problems.map((p): [string, string] => ['problem', k.yellow(p)]),
      ]);
      if (!body.connected || !body.decodable) process.exitCode = 1;
    });

  input
    .command('failover')
    .description('show the failover settings, or change them (admin): only the options given change')
    .addOption(new Option('--mode <mode>', 'automatic: switch on input loss; manual: only `input switch`').choices(['automatic', 'manual']))
    .option('--loss-ms <ms>', 'how long the active input may deliver nothing before it is lost', ms('--loss-ms'))
    .option('--revert-ms <ms>', 'back to the main once it has been clean this long', ms('--revert-ms'))
    .option('--no-revert', 'stay on the backup while it is healthy (non-revertive)')
    .option('--slate-ms <ms>', 'how long the destinations carry the slate with no input', ms('--slate-ms'))
    .action(async (o: { mode?: 'automatic' | 'manual'; lossMs?: number; revertMs?: number; revert: boolean; slateMs?: number }) => {
      const c = ctx();
      const api = c.api();
      const { body: health } = await api.request<InputHealth>('GET', HEALTH);
      if (!health.settings) throw cliError('CLI_FAILED', 'this engine has no backup input, so no failover settings', 'GET /api/mediaconnect/inputs/health reports the main input only.');
      const changing = o.mode !== undefined || o.lossMs !== undefined || o.revertMs !== undefined || o.revert === false || o.slateMs !== undefined;
      let settings = health.settings;
      if (changing) {
        const next: FailoverSettings = {
          mode: o.mode ?? settings.mode,
          inputLossThresholdMs: o.lossMs ?? settings.inputLossThresholdMs,
          errorClearTimeMs: o.revert === false ? null : (o.revertMs ?? settings.errorClearTimeMs),
          slateTimeoutMs: o.slateMs ?? settings.slateTimeoutMs,
        };
        settings = (await api.request<FailoverSettings>('PUT', '/api/mediaconnect/inputs/failover', { body: next })).body;
      }
      if (c.io.json) return c.io.printJson(settings);
      c.io.out(`${changing ? 'failover now: ' : ''}${settingsText(settings)}`);
    });
}
