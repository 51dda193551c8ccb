/**
 * `fanout dest list|add|show|edit|start|stop|rm`: destinations through the public API. A
 * destination is named by its id, a unique id prefix (the 8 characters `list` shows) or its exact
 * name. Stream keys are read from a prompt without echo or from stdin; `--stream-key` works too
 * but puts the key where every user of the machine can read it (`ps`), so it warns.
 */
import type { Command } from 'commander';
import type { Api } from '../client.ts';
import type { Ctx } from '../context.ts';
import { cliError } from '../errors.ts';
import { duration, maskedKey, type Colors, type Io } from '../output.ts';
import { canPrompt, confirm, promptSecret, readStdin } from '../prompt.ts';
import type { Destination, DestinationPage, Metrics } from '../types.ts';
import { parseDuration, waitFor, type WaitTarget } from '../wait.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE = 100;

/** Every destination, page by page (`?limit=&cursor=`; a server without paging sends all at once). */
export async function listDestinations(api: Api): Promise<Destination[]> {
  const all: Destination[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const { body } = await api.request<DestinationPage>('GET', '/api/destinations', { query: { limit: PAGE, cursor } });
    all.push(...body.destinations);
    if (!body.nextCursor) return all;
    cursor = body.nextCursor;
  }
  return all;
}

/** Finds a destination by id, unique id prefix or exact name. */
export async function resolveDestination(api: Api, ref: string): Promise<Destination> {
  if (UUID.test(ref)) return (await api.request<Destination>('GET', `/api/destinations/${ref.toLowerCase()}`)).body;
  const all = await listDestinations(api);
  const byName = all.filter((d) => d.name === ref);
  const byPrefix = ref.length >= 4 ? all.filter((d) => d.destinationId.startsWith(ref.toLowerCase())) : [];
  const matches = byName.length > 0 ? byName : byPrefix;
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw cliError('CLI_NOT_FOUND', `No destination named or with an id starting ${JSON.stringify(ref)}.`, 'List them with `fanout dest list`.');
  throw cliError('CLI_AMBIGUOUS', `${matches.length} destinations match ${JSON.stringify(ref)}: ${matches.map((d) => `${d.destinationId.slice(0, 8)} (${d.name})`).join(', ')}.`, 'Name it by its id.', {
    matches: matches.map((d) => d.destinationId),
  });
}

/** A status in colour and words. */
export function statusText(c: Colors, d: Pick<Destination, 'status' | 'desired' | 'channelReclaimed'>): string {
  const paint: Record<Destination['status'], (s: string) => string> = {
    running: c.green,
    starting: c.yellow,
    stopping: c.yellow,
    creating: c.yellow,
    deleting: c.magenta,
    error: c.red,
    idle: (s) => s,
  };
  let words: string = d.status;
  if (d.status === 'error' && d.desired === 'running') words = 'error, retrying';
  if (d.status === 'idle' && d.channelReclaimed) words = 'idle (channel reclaimed)';
  return paint[d.status](words);
}

function rows(c: Colors, list: Destination[]): string[][] {
  return list.map((d) => [d.destinationId.slice(0, 8), d.name, d.platform, d.preset, statusText(c, d), maskedKey(d.streamKeyLast4), d.lastError ? c.red(d.lastError.code) : '']);
}

export function destinationTable(io: Io, list: Destination[]): void {
  io.table(['ID', 'NAME', 'PLATFORM', 'PRESET', 'STATUS', 'KEY', 'LAST ERROR'], rows(io.c, list), 'No destinations. Add one with `fanout dest add`.');
}

function showDestination(io: Io, d: Destination, m: Metrics | null): void {
  const c = io.c;
  const pairs: [string, string][] = [
    ['id', d.destinationId],
    ['name', d.name],
    ['platform', d.platform],
    ['ingest', d.rtmpUrl],
    ['stream key', maskedKey(d.streamKeyLast4)],
    ['preset', d.preset],
    ['status', `${statusText(c, d)}${c.dim(` (wanted: ${d.desired})`)}`],
  ];
  if (d.lastError) pairs.push(['last error', `${c.red(d.lastError.code)}: ${d.lastError.message}`], ['hint', d.lastError.hint]);
  if (m) {
    pairs.push(
      ['bitrate', m.bitrateKbps === null ? '-' : `${Math.round(m.bitrateKbps)} kbit/s`],
      ['fps', m.fps === null ? '-' : String(Math.round(m.fps * 10) / 10)],
      ['uptime', duration(m.uptimeSeconds)],
      ['restarts', m.restarts === null ? '-' : String(m.restarts)],
    );
    if (m.attempt) pairs.push(['attempt', `${m.attempt}${m.nextRetryAt ? `, next retry ${m.nextRetryAt}` : ''}`]);
  }
  pairs.push(['version', String(d.version)], ['created', d.createdAt], ['modified', d.lastModified]);
  io.details(pairs);
}

/** The stream key from --stream-key-stdin (stdin, or a prompt on a terminal) or --stream-key (warned). */
async function streamKeyFrom(ctx: Ctx, o: { streamKey?: string; streamKeyStdin?: boolean }, required: boolean): Promise<string | undefined> {
  let key: string | undefined;
  if (o.streamKey !== undefined && o.streamKeyStdin) throw cliError('CLI_USAGE', 'Give the stream key one way: --stream-key-stdin or --stream-key.', '');
  if (o.streamKey !== undefined) {
    ctx.io.warn('--stream-key puts the key in the command line, which other users can read (`ps`, shell history); prefer the prompt or --stream-key-stdin.');
    key = o.streamKey;
  } else if (o.streamKeyStdin) key = await readStdin('stream key');
  else if (required) {
    if (!canPrompt()) throw cliError('CLI_USAGE', 'No stream key.', 'Pipe it in with --stream-key-stdin (`printf %s "$KEY" | fanout dest add ... --stream-key-stdin`), or run it at a terminal to be asked.');
    key = await promptSecret('Stream key (not shown): ');
  }
  if (key !== undefined) {
    if (!key) throw cliError('CLI_USAGE', 'The stream key is empty.', '');
    ctx.io.secret(key);
  }
  return key;
}

function timeoutOf(o: { timeout?: string }): number {
  return parseDuration(o.timeout ?? '10m');
}

async function printOne(ctx: Ctx, d: Destination | null, target?: WaitTarget): Promise<void> {
  const io = ctx.io;
  if (io.json) {
    io.printJson(d ?? { removed: true });
    return;
  }
  if (!d) return;
  if (target) io.out(`${d.name}: ${statusText(io.c, d)}`);
  else destinationTable(io, [d]);
}

export function registerDestinationCommands(program: Command, ctx: () => Ctx): void {
  const dest = program
    .command('dest')
    .alias('destination')
    .description('destinations: list, add, show, edit, start, stop, rm')
    .addHelpText('after', '\nA destination is named by its id, a unique id prefix (as `dest list` shows) or its exact name.');

  dest
    .command('list')
    .alias('ls')
    .description('list destinations with their live status')
    .action(async () => {
      const c = ctx();
      const list = await listDestinations(c.api());
      if (c.io.json) c.io.printJson(list);
      else destinationTable(c.io, list);
    });

  dest
    .command('add')
    .description('add a destination (the stream key is asked without echo, or read from stdin)')
    .requiredOption('--name <name>', 'a name to tell it apart (e.g. "YouTube main")')
    .requiredOption('--platform <id>', 'youtube, twitch, linkedin, facebook, custom, ... (`fanout platform list`)')
    .option('--rtmp-url <url>', "ingest URL without the key (default: the platform's, RTMPS where offered)")
    .option('--preset <id>', "encoding preset (default: the platform's default; `fanout preset list --platform <id>`)")
    .option('--stream-key-stdin', 'read the stream key from stdin (at a terminal: asked without echo)')
    .option('--stream-key <key>', 'the stream key on the command line: visible to other users in `ps` and kept in shell history; avoid')
    .option('--idempotency-key <key>', 'retry safely: the same key and body give the first result for 24 h')
    .option('--start', 'start it once created')
    .option('--wait', 'with --start: wait until it runs (progress on stderr)')
    .option('--timeout <duration>', 'with --wait: give up after this long (default 10m)')
    .addHelpText('after', '\nExamples:\n  fanout dest add --name "YouTube main" --platform youtube            # asks for the key\n  printf %s "$KEY" | fanout dest add --name Twitch --platform twitch --stream-key-stdin')
    .action(async (o: { name: string; platform: string; rtmpUrl?: string; preset?: string; streamKey?: string; streamKeyStdin?: boolean; idempotencyKey?: string; start?: boolean; wait?: boolean; timeout?: string }) => {
      const c = ctx();
      const api = c.api();
      api.requireToken();
      const timeout = o.wait ? timeoutOf(o) : 0;
      const streamKey = await streamKeyFrom(c, o, true);
      const body = { name: o.name, platform: o.platform, streamKey, ...(o.rtmpUrl ? { rtmpUrl: o.rtmpUrl } : {}), ...(o.preset ? { preset: o.preset } : {}) };
      const { body: created } = await api.request<Destination>('POST', '/api/destinations', { body, headers: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {} });
      let d: Destination | null = created;
      if (o.start) {
        // A new destination is `creating` until its channel exists; a start is legal from there.
        d = (await api.request<Destination>('POST', `/api/destinations/${created.destinationId}/start`)).body;
        if (o.wait) d = await waitFor(api, c.io, d, 'running', timeout);
      }
      await printOne(c, d);
    });

  dest
    .command('show')
    .argument('<destination>', 'id, id prefix or name')
    .description('one destination: status, last error, live metrics')
    .action(async (ref: string) => {
      const c = ctx();
      const api = c.api();
      const d = await resolveDestination(api, ref);
      const { body } = await api.request<{ metrics: Metrics | null }>('GET', `/api/destinations/${d.destinationId}/metrics`);
      if (c.io.json) c.io.printJson({ ...d, metrics: body.metrics });
      else showDestination(c.io, d, body.metrics);
    });

  dest
    .command('edit')
    .argument('<destination>', 'id, id prefix or name')
    .description('change the name, ingest URL, stream key or preset (a running destination is updated in place)')
    .option('--name <name>', 'new name')
    .option('--rtmp-url <url>', 'new ingest URL')
    .option('--preset <id>', 'new preset')
    .option('--stream-key-stdin', 'a new stream key from stdin (at a terminal: asked without echo)')
    .option('--stream-key <key>', 'a new stream key on the command line: visible in `ps`; avoid')
    .option('--if-version <n>', 'only if it is still at this version (optimistic concurrency)')
    .action(async (ref: string, o: { name?: string; rtmpUrl?: string; preset?: string; streamKey?: string; streamKeyStdin?: boolean; ifVersion?: string }) => {
      const c = ctx();
      const api = c.api();
      if (o.name === undefined && o.rtmpUrl === undefined && o.preset === undefined && o.streamKey === undefined && !o.streamKeyStdin)
        throw cliError('CLI_USAGE', 'Nothing to change.', 'Give at least one of --name, --rtmp-url, --preset, --stream-key-stdin.');
      const version = o.ifVersion === undefined ? undefined : Number(o.ifVersion);
      if (version !== undefined && !(Number.isInteger(version) && version >= 1)) throw cliError('CLI_USAGE', `--if-version must be a whole number, not ${JSON.stringify(o.ifVersion)}.`, '');
      const d = await resolveDestination(api, ref);
      const streamKey = await streamKeyFrom(c, o, false);
      const body = {
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.rtmpUrl !== undefined ? { rtmpUrl: o.rtmpUrl } : {}),
        ...(o.preset !== undefined ? { preset: o.preset } : {}),
        ...(streamKey !== undefined ? { streamKey } : {}),
        ...(version !== undefined ? { version } : {}),
      };
      const { body: updated } = await api.request<Destination>('PUT', `/api/destinations/${d.destinationId}`, { body });
      await printOne(c, updated);
    });

  for (const [action, target, words] of [
    ['start', 'running', 'go live (202 at once; --wait follows it until it runs)'],
    ['stop', 'idle', 'stop (--wait follows it until it is idle)'],
  ] as const) {
    dest
      .command(action)
      .argument('<destination>', 'id, id prefix or name')
      .description(words)
      .option('--wait', `wait until it is ${target}, showing progress on stderr; exit 1 on error or timeout`)
      .option('--timeout <duration>', 'with --wait: give up after this long, e.g. 90s, 10m (default 10m; a start on AWS takes minutes)')
      .action(async (ref: string, o: { wait?: boolean; timeout?: string }) => {
        const c = ctx();
        const api = c.api();
        const timeout = o.wait ? timeoutOf(o) : 0;
        const d = await resolveDestination(api, ref);
        let after: Destination | null = (await api.request<Destination>('POST', `/api/destinations/${d.destinationId}/${action}`)).body;
        if (o.wait) after = await waitFor(api, c.io, after, target, timeout);
        await printOne(c, after, target);
      });
  }

  dest
    .command('rm')
    .aliases(['remove', 'delete'])
    .argument('<destination>', 'id, id prefix or name')
    .description('remove a destination and every resource made for it')
    .option('-y, --yes', 'do not ask (required when not at a terminal)')
    .option('--wait', 'wait until it is gone')
    .option('--timeout <duration>', 'with --wait: give up after this long (default 10m)')
    .action(async (ref: string, o: { yes?: boolean; wait?: boolean; timeout?: string }) => {
      const c = ctx();
      const api = c.api();
      const timeout = o.wait ? timeoutOf(o) : 0;
      const d = await resolveDestination(api, ref);
      await confirm(`Remove destination "${d.name}" (${d.destinationId.slice(0, 8)}, ${d.status})?`, o.yes);
      let after: Destination | null = (await api.request<Destination>('DELETE', `/api/destinations/${d.destinationId}`)).body;
      if (o.wait) after = await waitFor(api, c.io, after, 'gone', timeout);
      if (c.io.json) c.io.printJson(after ?? { destinationId: d.destinationId, removed: true });
      else c.io.out(after ? `${d.name}: ${statusText(c.io.c, after)}` : `${d.name}: removed`);
    });
}
