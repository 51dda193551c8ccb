/**
 * `fanout preset list|add|rm` and `fanout platform list`. Operators read presets
 * (`GET /api/presets`) and platforms (`GET /api/platforms`; an API older than that route has only
 * the admins' `GET /api/admin/platforms`, which is tried when it answers ROUTE_NOT_FOUND); adding
 * and removing presets is for admins (403 → exit 4).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Ctx } from '../context.ts';
import { CliError, cliError } from '../errors.ts';
import { confirm } from '../prompt.ts';
import type { Platform, Preset } from '../types.ts';

/** `6000k`, `6M`, `6000000` → bits per second. */
export function parseBitrate(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmM]?)(?:bps|bit\/s|b)?$/.exec(text.trim());
  if (!m) throw cliError('CLI_USAGE', `${what} is not a bitrate: ${JSON.stringify(text)}.`, 'e.g. 6000k, 6M or 6000000 (bits per second).');
  const unit = m[2]!.toLowerCase();
  return Math.round(Number(m[1]) * (unit === 'k' ? 1000 : unit === 'm' ? 1_000_000 : 1));
}

const kbps = (bps: number): string => (bps >= 1_000_000 && bps % 100_000 === 0 ? `${bps / 1_000_000} Mbit/s` : `${Math.round(bps / 1000)} kbit/s`);

export function registerCatalogCommands(program: Command, ctx: () => Ctx): void {
  const preset = program.command('preset').description('encoding presets: list, add, rm');

  preset
    .command('list')
    .alias('ls')
    .description("list presets (with --platform: the platform's own first, then the generic ones)")
    .option('--platform <id>', 'only those a destination on this platform may use')
    .action(async (o: { platform?: string }) => {
      const c = ctx();
      const { body } = await c.api().request<{ presets: Preset[] }>('GET', '/api/presets', { query: { platform: o.platform } });
      if (c.io.json) return c.io.printJson(body.presets);
      c.io.table(
        ['ID', 'NAME', 'PLATFORM', 'VIDEO', 'AUDIO', ''],
        body.presets.map((p) => [
          p.presetId,
          p.name,
          p.platform,
          p.video ? `${p.video.resolution} ${p.video.frameRate} fps ${kbps(p.video.bitrate)}` : c.io.c.dim('as the source'),
          p.audio ? `AAC ${kbps(p.audio.bitrate)}` : c.io.c.dim('as the source'),
          [p.isDefault ? 'default' : '', p.builtIn ? c.io.c.dim('built-in') : ''].filter(Boolean).join(', '),
        ]),
        'No presets.',
      );
    });

  preset
    .command('add')
    .description('add a preset (admins): from flags, or a JSON body with --file')
    .option('--id <id>', 'preset id: lowercase letters, digits and dashes (default: from the name)')
    .option('--name <name>', 'name')
    .option('--platform <id>', '"generic" or a platform id (its limits apply)', 'generic')
    .option('--description <text>', 'description')
    .option('--default', "make it the platform's default for new destinations")
    .option('--passthrough', 'forward the contribution feed without re-encoding')
    .option('--resolution <WxH>', 'e.g. 1920x1080')
    .option('--fps <n>', 'frame rate, e.g. 30')
    .option('--video-bitrate <rate>', 'e.g. 6000k or 6M')
    .option('--audio-bitrate <rate>', 'e.g. 128k', '128k')
    .option('--keyframe-interval <seconds>', 'seconds between keyframes', '2')
    .option('--profile <profile>', 'H.264 profile: baseline, main, high', 'high')
    .option('--file <path>', 'the whole preset as JSON (the API\'s PresetInput; "-" reads stdin)')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const c = ctx();
      let body: Record<string, unknown>;
      if (typeof o.file === 'string') {
        const text = o.file === '-' ? readFileSync(0, 'utf8') : readFileSync(o.file, 'utf8');
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch (err) {
          throw cliError('CLI_USAGE', `${o.file} is not JSON: ${(err as Error).message}.`, '');
        }
      } else {
        if (typeof o.name !== 'string') throw cliError('CLI_USAGE', 'Missing --name (or give the preset with --file).', '');
        body = {
          ...(typeof o.id === 'string' ? { presetId: o.id } : {}),
          name: o.name,
          platform: o.platform,
          ...(typeof o.description === 'string' ? { description: o.description } : {}),
          isDefault: o.default === true,
          passthrough: o.passthrough === true,
        };
        if (!o.passthrough) {
          const missing = ['resolution', 'fps', 'videoBitrate'].filter((k) => typeof o[k] !== 'string');
          if (missing.length) throw cliError('CLI_USAGE', `An encoded preset needs ${missing.map((m) => `--${m.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`)}`).join(', ')} (or --passthrough).`, '');
          body.video = {
            codec: 'h264',
            resolution: o.resolution,
            frameRate: Number(o.fps),
            bitrate: parseBitrate(String(o.videoBitrate), '--video-bitrate'),
            keyframeInterval: Number(o.keyframeInterval),
            profile: o.profile,
          };
          body.audio = { codec: 'aac', bitrate: parseBitrate(String(o.audioBitrate), '--audio-bitrate') };
        }
      }
      const { body: created } = await c.api().request<Preset>('POST', '/api/admin/presets', { body });
      if (c.io.json) c.io.printJson(created);
      else c.io.out(`preset ${created.presetId} added`);
    });

  preset
    .command('rm')
    .aliases(['remove', 'delete'])
    .argument('<id>', 'preset id')
    .description('remove a preset no destination uses (admins)')
    .option('-y, --yes', 'do not ask (required when not at a terminal)')
    .action(async (id: string, o: { yes?: boolean }) => {
      const c = ctx();
      c.api().requireToken();
      await confirm(`Remove preset "${id}"?`, o.yes);
      await c.api().request('DELETE', `/api/admin/presets/${encodeURIComponent(id)}`);
      if (c.io.json) c.io.printJson({ presetId: id, removed: true });
      else c.io.out(`preset ${id} removed`);
    });

  const platform = program.command('platform').description('streaming platforms: list');
  platform
    .command('list')
    .alias('ls')
    .description('list platforms: ingest URLs and limits')
    .action(async () => {
      const c = ctx();
      const api = c.api();
      let platforms: Platform[];
      try {
        platforms = (await api.request<{ platforms: Platform[] }>('GET', '/api/platforms')).body.platforms;
      } catch (err) {
        if (!(err instanceof CliError && err.problem.code === 'ROUTE_NOT_FOUND')) throw err;
        c.io.debug('no GET /api/platforms here: asking GET /api/admin/platforms');
        platforms = (await api.request<{ platforms: Platform[] }>('GET', '/api/admin/platforms')).body.platforms;
      }
      if (c.io.json) return c.io.printJson(platforms);
      c.io.table(
        ['ID', 'NAME', 'INGEST', 'LIMITS', ''],
        platforms.map((p) => [
          p.platformId,
          p.name,
          p.rtmpsUrl ?? p.rtmpUrl ?? c.io.c.dim('(give --rtmp-url)'),
          `${p.limits.maxWidth}x${p.limits.maxHeight} ${p.limits.maxFrameRate} fps ${kbps(p.limits.maxVideoBitrate)}`,
          p.builtIn ? c.io.c.dim('built-in') : '',
        ]),
        'No platforms.',
      );
    });
}
