/**
 * `fanout notify channels|add|set|remove|test|deliveries` (admins): the notifier's delivery
 * channels (Slack, SNS, signed webhooks, the log), a test message, and the last deliveries with
 * their outcome. Webhook URLs are secrets: the API shows them masked, and the CLI reads a new one
 * from `--url-stdin` (or the prompt-free `--url`, which other users may see in the process list). A
 * webhook channel's signing secret is printed once, alone on stdout, when the channel is added.
 */
import { Option, type Command } from 'commander';
import type { Ctx } from '../context.ts';
import { cliError } from '../errors.ts';
import { confirm } from '../prompt.ts';
import type { NotificationChannel, NotificationDelivery } from '../types.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

const filters = (c: NotificationChannel) => `${c.alertNames === 'all' ? 'all' : c.alertNames.join(',') || 'none'} ≥${c.minSeverity}`;

export function registerNotifyCommands(program: Command, ctx: () => Ctx): void {
  const notify = program.command('notify').description('notifications (admins): channels, test messages, deliveries');

  notify
    .command('channels')
    .alias('ls')
    .description('list the notification channels (targets masked)')
    .action(async () => {
      const c = ctx();
      const { body } = await c.api().request<{ channels: NotificationChannel[] }>('GET', '/api/admin/notifications/channels');
      if (c.io.json) return c.io.printJson(body.channels);
      c.io.table(
        ['ID', 'NAME', 'KIND', 'ON', 'ALERTS', 'TARGET'],
        body.channels.map((ch) => [ch.channelId, ch.name, ch.kind, ch.enabled ? 'yes' : 'no', filters(ch), ch.target]),
        'No channels.',
      );
    });

  const withUrl = async (o: { url?: string; urlStdin?: boolean }, c: Ctx): Promise<string | undefined> => {
    if (o.url && o.urlStdin) throw cliError('CLI_USAGE', 'use --url or --url-stdin, not both');
    if (o.url) c.io.err('warning: --url is visible to other users of this machine (ps); prefer --url-stdin');
    return o.urlStdin ? await readStdin() : o.url;
  };

  notify
    .command('add')
    .description('add a channel (slack / webhook need a URL; sns uses the stack topic; log)')
    .requiredOption('--name <name>', "the channel's name")
    .addOption(new Option('--kind <kind>', 'channel kind').choices(['slack', 'webhook', 'sns', 'log']).makeOptionMandatory())
    .option('--url <url>', 'the webhook URL (a secret: prefer --url-stdin)')
    .option('--url-stdin', 'read the URL from stdin')
    .option('--alerts <names>', 'comma-separated alert types (default all)')
    .addOption(new Option('--min-severity <severity>', 'least severe alert it gets').choices(['critical', 'warning', 'info']))
    .action(async (o: { name: string; kind: string; url?: string; urlStdin?: boolean; alerts?: string; minSeverity?: string }) => {
      const c = ctx();
      c.api().requireToken();
      const url = await withUrl(o, c);
      const { body } = await c.api().request<{ channel: NotificationChannel; signingSecret?: string }>('POST', '/api/admin/notifications/channels', {
        body: {
          name: o.name,
          kind: o.kind,
          ...(url ? { url } : {}),
          ...(o.alerts
            ? {
                alertNames: o.alerts
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean),
              }
            : {}),
          ...(o.minSeverity ? { minSeverity: o.minSeverity } : {}),
        },
      });
      if (c.io.json) return c.io.printJson(body);
      c.io.err(`Channel "${body.channel.name}" (${body.channel.kind}, id ${body.channel.channelId}) → ${body.channel.target}`);
      if (body.signingSecret) {
        c.io.err('Its signing secret, shown only this once (receivers verify webhook-signature with it):');
        c.io.out(body.signingSecret);
      }
    });

  notify
    .command('set')
    .argument('<id>', 'channel id (`fanout notify channels`)')
    .description('change a channel: enable/disable, alert types, least severity, name, URL')
    .option('--enable', 'turn it on')
    .option('--disable', 'turn it off')
    .option('--name <name>', 'rename')
    .option('--url <url>', 'a new URL (prefer --url-stdin)')
    .option('--url-stdin', 'read the new URL from stdin')
    .option('--alerts <names>', "comma-separated alert types, or 'all'")
    .addOption(new Option('--min-severity <severity>', 'least severe alert it gets').choices(['critical', 'warning', 'info']))
    .action(async (id: string, o: { enable?: boolean; disable?: boolean; name?: string; url?: string; urlStdin?: boolean; alerts?: string; minSeverity?: string }) => {
      const c = ctx();
      c.api().requireToken();
      if (o.enable && o.disable) throw cliError('CLI_USAGE', 'use --enable or --disable, not both');
      const url = await withUrl(o, c);
      const patch = {
        ...(o.enable ? { enabled: true } : {}),
        ...(o.disable ? { enabled: false } : {}),
        ...(o.name ? { name: o.name } : {}),
        ...(url ? { url } : {}),
        ...(o.alerts
          ? {
              alertNames:
                o.alerts === 'all'
                  ? 'all'
                  : o.alerts
                      .split(',')
                      .map((s) => s.trim())
                      .filter(Boolean),
            }
          : {}),
        ...(o.minSeverity ? { minSeverity: o.minSeverity } : {}),
      };
      const { body } = await c.api().request<NotificationChannel>('PUT', `/api/admin/notifications/channels/${encodeURIComponent(id)}`, { body: patch });
      if (c.io.json) return c.io.printJson(body);
      c.io.out(`${body.name}: ${body.enabled ? 'enabled' : 'disabled'}, ${filters(body)}, → ${body.target}`);
    });

  notify
    .command('remove')
    .alias('rm')
    .argument('<id>', 'channel id')
    .description('remove a channel')
    .option('-y, --yes', 'do not ask (required when not at a terminal)')
    .action(async (id: string, o: { yes?: boolean }) => {
      const c = ctx();
      c.api().requireToken();
      await confirm(`Remove notification channel ${id}?`, o.yes);
      await c.api().request('DELETE', `/api/admin/notifications/channels/${encodeURIComponent(id)}`);
      if (c.io.json) c.io.printJson({ channelId: id, removed: true });
      else c.io.out(`channel ${id} removed`);
    });

  notify
    .command('test')
    .argument('<id>', 'channel id')
    .description('send a test message to the channel now; exits 1 when it was not delivered')
    .action(async (id: string) => {
      const c = ctx();
      const { body } = await c.api().request<NotificationDelivery>('POST', `/api/admin/notifications/channels/${encodeURIComponent(id)}/test`);
      if (c.io.json) c.io.printJson(body);
      else if (body.outcome === 'sent') c.io.out(`delivered to ${body.channelName}${body.httpStatus ? ` (HTTP ${body.httpStatus})` : ''}`);
      else c.io.err(`not delivered to ${body.channelName}: ${body.error?.code ?? ''} ${body.error?.message ?? ''}\n  hint: ${body.error?.hint ?? ''}`);
      if (body.outcome !== 'sent') process.exitCode = 1;
    });

  notify
    .command('deliveries')
    .description('the last deliveries, newest first, with their outcome')
    .option('--limit <n>', 'how many (1-200)', '20')
    .option('--channel <id>', 'only this channel')
    .action(async (o: { limit: string; channel?: string }) => {
      const c = ctx();
      const q = new URLSearchParams({ limit: o.limit, ...(o.channel ? { channelId: o.channel } : {}) });
      const { body } = await c.api().request<{ deliveries: NotificationDelivery[] }>('GET', `/api/admin/notifications/deliveries?${q}`);
      if (c.io.json) return c.io.printJson(body.deliveries);
      c.io.table(
        ['AT', 'CHANNEL', 'OUTCOME', 'STATUS', 'ALERTS', 'TRIES', 'DETAIL'],
        body.deliveries.map((d) => [d.at, d.channelName, d.outcome, d.test ? 'test' : d.status, d.alertNames.join(','), String(d.attempts), d.error ? d.error.code : d.httpStatus ? `HTTP ${d.httpStatus}` : '']),
        'No deliveries yet.',
      );
    });
}
