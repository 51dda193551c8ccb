/**
 * `fanout events`: follows the live event stream like `kubectl get -w`: one line per change
 * (created, status from → to with the error and its hint, updated, removed), until Ctrl+C;
 * reconnects by itself with Last-Event-ID. `--json` writes each event as one JSON line (NDJSON).
 * Status events carry no name; names come from the list read at the start and from later events.
 */
import type { Command } from 'commander';
import type { Ctx } from '../context.ts';
import { CliError } from '../errors.ts';
import { EXIT } from '../exit-codes.ts';
import { followEvents } from '../event-stream.ts';
import type { Destination, LastError } from '../types.ts';
import { listDestinations, resolveDestination, statusText } from './destinations.ts';

interface EventData {
  destinationId?: string;
  name?: string;
  platform?: string;
  preset?: string;
  status?: Destination['status'];
  from?: Destination['status'];
  to?: Destination['status'];
  desired?: Destination['desired'];
  lastError?: LastError | null;
  changed?: string[];
  occurredAt?: string;
  bitrateKbps?: number | null;
  fps?: number | null;
}

export function registerEventsCommand(program: Command, ctx: () => Ctx): void {
  program
    .command('events')
    .alias('watch')
    .description('follow live changes (like `kubectl get -w`) until Ctrl+C; reconnects by itself')
    .option('--dest <destination>', 'only this destination (id, id prefix or name)')
    .option('--metrics', 'also the live metrics of running destinations (every 2 s each)')
    .action(async (o: { dest?: string; metrics?: boolean }) => {
      const c = ctx();
      const api = c.api();
      const io = c.io;
      const k = io.c;
      const names = new Map<string, string>();
      const only = o.dest ? (await resolveDestination(api, o.dest)).destinationId : undefined;
      const loadNames = async (): Promise<void> => {
        for (const d of await listDestinations(api)) names.set(d.destinationId, d.name);
      };
      await loadNames();
      const nameOf = async (id: string): Promise<string> => {
        if (!names.has(id)) {
          try {
            names.set(id, (await api.request<Destination>('GET', `/api/destinations/${id}`)).body.name);
          } catch {
            names.set(id, id.slice(0, 8));
          }
        }
        return names.get(id)!;
      };
      const stop = new AbortController();
      let interrupted = false;
      process.once('SIGINT', () => {
        interrupted = true;
        stop.abort();
      });
      if (!io.json) io.err(io.ce.dim(`Following ${api.conn.url}/api/events (Ctrl+C stops)`));
      await followEvents(api, {
        signal: stop.signal,
        onOpen: async (again) => {
          if (again && !io.json) io.err(io.ce.dim('reconnected'));
        },
        onDrop: (why, ms) => io.err(io.ce.yellow(`connection lost (${why}); reconnecting in ${Math.round(ms / 1000)} s`)),
        onEvent: async (e) => {
          if (e.event === 'ping' || e.event === 'ready') return;
          if (e.event === 'destination.metrics' && !o.metrics) return;
          const data = (e.data ?? {}) as EventData;
          if (only && data.destinationId !== only && e.event !== 'reset') return;
          if (e.event === 'reset') {
            // The server could not resume (it restarted, or we were away too long): names may be stale.
            await loadNames();
          }
          if (io.json) return io.printJsonLine({ ...(e.id ? { id: e.id } : {}), event: e.event, data: e.data });
          const at = (data.occurredAt ? new Date(data.occurredAt) : new Date()).toISOString().slice(11, 19);
          const id = data.destinationId;
          if (e.event === 'reset') return io.err(io.ce.yellow('some events were missed (Fanout restarted?); names reloaded: `fanout dest list` shows the current state'));
          if (!id) return io.out(`${k.dim(at)}  ${e.event}  ${JSON.stringify(e.data)}`);
          if (e.event === 'destination.created' && data.name) names.set(id, data.name);
          if (e.event === 'destination.updated' && data.changed?.includes('name')) names.delete(id);
          const name = await nameOf(id);
          const who = `${k.bold(name)} ${k.dim(`(${id.slice(0, 8)})`)}`;
          let what = '';
          switch (e.event) {
            case 'destination.created':
              what = `${k.cyan('created')}   ${who}  ${data.platform ?? ''}, ${data.preset ?? ''}`;
              break;
            case 'destination.status':
              what = `${k.cyan('status')}    ${who}  ${data.from} → ${statusText(k, { status: data.to ?? 'idle', desired: data.desired ?? 'stopped' })}`;
              if (data.lastError) what += `  ${k.red(data.lastError.code)}: ${data.lastError.message} ${k.dim(`(${data.lastError.hint})`)}`;
              break;
            case 'destination.updated':
              what = `${k.cyan('updated')}   ${who}  ${(data.changed ?? []).join(', ')}`;
              break;
            case 'destination.deleted':
              what = `${k.cyan('removed')}   ${who}`;
              names.delete(id);
              break;
            case 'destination.metrics':
              what = `${k.dim('metrics')}   ${who}  ${data.bitrateKbps === null || data.bitrateKbps === undefined ? '-' : Math.round(data.bitrateKbps)} kbit/s, ${data.fps ?? '-'} fps`;
              break;
            default:
              what = `${e.event}  ${who}  ${JSON.stringify(e.data)}`;
          }
          io.out(`${k.dim(at)}  ${what}`);
        },
      }).catch((err: unknown) => {
        if (err instanceof CliError && err.problem.code === 'SSE_UNAVAILABLE') {
          err.problem.hint = `${err.problem.hint} (\`fanout dest list\` shows the current state.)`;
        }
        throw err;
      });
      if (interrupted) process.exitCode = EXIT.INTERRUPTED;
    });
}
