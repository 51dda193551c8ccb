/**
 * The local runtime: the whole system in one Node process, wired from serverless.yml.
 *
 *   dynalite (tables from serverless.yml) ── DynamoDB client ──┐
 *   in-process EventBridge + SQS (rules, queues, DLQs, batch    ├─ the LocalInfrastructure;
 *     sizes, visibility timeouts from serverless.yml)   ────────┤  each service gets its deps
 *   AES-256-GCM key file in the data dir, one ApiAuth, engine ──┘  from it (services/<service>.ts)
 *                                                                 and its handler factories run
 *                                                                 as on AWS, found by the handler
 *                                                                 names serverless.yml gives them
 *   HTTP server (Hono on Node) serving the destination API and the live event stream, and the
 *     other services' routes, dispatched by the httpApi routes of serverless.yml as API Gateway
 *     does (a function's specific routes first, `*` for the rest), every app checking tokens with
 *     the process's one ApiAuth; what Node's parser refuses is answered as a problem document
 *     too; GET /metrics (Prometheus, metrics tokens: metrics.ts) before them
 *
 * `npm start` runs this through main.ts; tests start it in-process with an in-memory database.
 */
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { getRequestListener, RequestError } from '@hono/node-server';
import { getPath } from 'hono/utils/url';
import { apiAuthFor } from '../../auth/api-auth.ts';
import { problemAsResponse } from '../../http/api-kit.ts';
import { AppError, PROBLEM_CONTENT_TYPE, toProblem, type ErrorCode } from '../../errors/index.ts';
import type { Logger } from '../../logging/logger.ts';
import type { Secret } from '../../secrets/secret.ts';
import { loadConfig, setConfig, type Config } from '../../config/index.ts';
import { putEventsBatches, TappedPublisher, type BusEntry, type EventPublisher } from '../../events/publisher.ts';
import { createLogger } from '../../logging/logger.ts';
import { LocalKeyFileCipher } from '../../secrets/cipher.ts';
import { createDocumentClient, createDynamoClient } from '../../store/dynamo.ts';
import type { EngineEventSink } from '../../engines/port/ports.ts';
import { MemoryEngine } from '../../engines/memory/index.ts';
import type { HostResolver } from '../../net/egress.ts';
import type { AwsFake, FakeTimings } from '../../engines/aws/testing.ts';
import { LocalEventBus, type FunctionRef, type LambdaHandler } from './bus.ts';
import { prepareDataDir } from './data-dir.ts';
import { ensureTables, repairIndexes, startDynalite } from './dynalite.ts';
import { loadServerlessConfig } from './serverless-config.ts';
import { SseHub } from '../../../services/destination/src/http/sse-hub.ts';
import { forwardToSse } from '../../../services/destination/src/http/sse-forward.ts';
import { destinationModule, type DestinationModule } from '../../../services/destination/src/module.ts';
import { bootstrapAdminToken } from '../../../services/destination/src/app/admin-bootstrap.ts';
import { hasInputRedundancy, inputHealthBody } from '../../../services/destination/src/http/input-health.ts';
import { localServices, type LocalEngine, type LocalInfrastructure, type LocalService } from './services/index.ts';
import { createStaticSite } from './static-site.ts';
import { createMetricsApp, LocalMetrics } from './metrics.ts';
import { costTrackerFor } from '../../../services/cost-tracker/src/app/build.ts';
import { costTracker } from './services/cost-tracker.ts';
import { repoRoot } from './serverless-config.ts';

export interface LocalRuntimeOptions {
  /** Environment to read configuration from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Keep the database in memory instead of the data dir (tests). */
  inMemory?: boolean;
  /** Scales serverless.yml's durations (visibility timeouts, schedules) for tests. */
  timeScale?: number;
  ssePingMs?: number;
  /** How often live metrics of running channels and the input's health go to the event stream (default 2000 ms). */
  metricsIntervalMs?: number;
  /** The built dashboards (services/dashboard) served at / and /admin; default `.build/dashboard`. */
  dashboardDir?: string;
  /** Wraps the publisher (tests inject failures here). */
  wrapPublisher?: (inner: EventPublisher) => EventPublisher;
  /**
   * The media engine: `local` (FFmpeg + the SRT ingest fanout-srt, the default), `memory` (AWS-like state
   * machines, no media: control-plane tests), `aws-fake` (the production AWS engine driving an
   * in-memory MediaLive/MediaConnect through aws-sdk-client-mock: tests only, needs the dev
   * dependencies) or `none` (only the destination service runs).
   */
  engine?: 'local' | 'memory' | 'aws-fake' | 'none';
  /**
   * `aws-fake` only: scales AWS's timings (AWS_TIMINGS in aws-fake.ts: a channel starts in 3
   * minutes) so a saga takes milliseconds. Default 1/2000 (a start in 90 ms).
   */
  awsFakeTimeScale?: number;
  /** Run the scheduled functions (reconciles, outbox relay) on their rate; default true. Tests that
   *  must see a saga resume by redelivery alone turn them off and call `bus.runScheduled` themselves. */
  schedules?: boolean;
  /**
   * `memory` only: the engine keeps its state in the data dir and takes it back at the next start,
   * so it outlives a crash of this process as AWS's media services outlive a Lambda (crash tests).
   */
  persistMemoryEngine?: boolean;
  /**
   * Test only, the crash point of the crash tests (test/crash-points.test.ts, docs/security.md
   * "Crash safety"): every entry about to be published is shown to it, and when it answers true
   * this process is SIGKILLed on the spot, after the write that produced the event and before the
   * event is out. Only a caller of startLocalRuntime can set it: `npm start` (main.ts) never does,
   * no configuration variable reaches it, and the AWS publisher has no such hook.
   */
  killBeforePublish?: (entry: BusEntry) => boolean;
  /** Resolves host names for the egress policy (default: the system's DNS). Tests inject one so nothing leaves loopback. */
  resolveHost?: HostResolver;
  /** The notifier's HTTP client for Slack and webhooks (default the global fetch; tests may wrap it). */
  notifierFetch?: typeof fetch;
}

/** Whether a function of serverless.yml runs without a media engine (its service does not need one). */
const runsWithoutEngine = (fn: { handler: { file: string } }): boolean => localServices[fn.handler.file]?.needsEngine !== true;

export type { LocalEngine } from './services/index.ts';

async function createEngine(
  kind: NonNullable<LocalRuntimeOptions['engine']>,
  o: { sink: EngineEventSink; config: Config; dataDir: string; deployment: string; awsFakeTimeScale: number; persist: boolean; resolveHost?: HostResolver },
): Promise<{ engine?: LocalEngine; awsFake?: AwsFake }> {
  if (kind === 'none') return {};
  if (kind === 'memory') return { engine: new MemoryEngine({ sink: o.sink, ...(o.persist ? { stateFile: join(o.dataDir, 'memory-engine.json') } : {}) }) };
  if (kind === 'aws-fake') return createAwsFakeEngine(o);
  const { createLocalMediaEngine } = await import('../../engines/local/index.ts');
  return { engine: await createLocalMediaEngine({ sink: o.sink, config: o.config, dataDir: o.dataDir, ...(o.resolveHost ? { resolveHost: o.resolveHost } : {}) }) };
}

/**
 * The production AWS engine over the in-memory AWS (aws-fake.ts), AWS's timings scaled down. The
 * fake's native events reach the default bus as MediaLive's and MediaConnect's would; the stack's
 * primary channel exists, tagged for this deployment. Imported lazily: aws-sdk-client-mock is a
 * dev dependency and never part of `npm start` or a Lambda bundle.
 */
async function createAwsFakeEngine(o: { sink: EngineEventSink; deployment: string; awsFakeTimeScale: number }): Promise<{ engine: LocalEngine; awsFake: AwsFake }> {
  const [{ AwsFake: Fake, AWS_TIMINGS }, { AwsMediaEngine }] = await Promise.all([import('../../engines/aws/testing.ts'), import('../../engines/aws/index.ts')]);
  const timings = Object.fromEntries(Object.entries(AWS_TIMINGS).map(([k, ms]) => [k, Math.max(1, Math.round(ms * o.awsFakeTimeScale))])) as unknown as FakeTimings;
  const fake = new Fake({ sink: o.sink, timings, primaryChannelFor: o.deployment });
  const aws = new AwsMediaEngine(
    { flowArn: fake.flowArn, mediaLiveRoleArn: `arn:aws:iam::${fake.account}:role/fanout-local-medialive`, region: fake.region, deployment: o.deployment, tags: {}, primaryChannelId: fake.primaryChannelId! },
    // The engine reports input switches itself (MediaConnect has no event for them): onto the same default bus.
    { medialive: fake.medialive, mediaconnect: fake.mediaconnect, sink: o.sink },
  );
  const engine: LocalEngine = Object.assign(aws, {
    inputHealth: async () => (await aws.describeFlow()).source,
    close: async () => fake.close(),
  });
  return { engine, awsFake: fake };
}

export interface LocalRuntime {
  url: string;
  config: Config;
  bus: LocalEventBus;
  sse: SseHub;
  /** Set when no admin token existed and one was generated: print it once. */
  generatedAdminToken?: Secret;
  /** The entries published on the bus since start, the newest 5000 (tests scan them). */
  published: BusEntry[];
  /** The media engine this runtime drives (absent with engine `none`). */
  engine?: LocalEngine;
  /** With engine `aws-fake`: the in-memory AWS behind the engine (tests inspect and steer it). */
  awsFake?: AwsFake;
  /** What this runtime gives its services (store clients, publisher, cipher, ApiAuth, engine). */
  infrastructure: LocalInfrastructure;
  /** The destination service as this runtime put it together (tests reach its repositories). */
  destination: DestinationModule;
  stop(): Promise<void>;
}

/** The id of the token FANOUT_ADMIN_TOKEN sets (one at a time: a new value replaces the old). */
export const ADMIN_ENV_TOKEN_ID = 'admin-env';

/**
 * A request the Node adapter could not turn into a Request (a Host header that is no host, a
 * backslash in the path): the client's fault, 400 with a problem document. Anything else that
 * escaped the apps is ours: logged, 500.
 */
function requestErrorResponse(err: unknown, logger: Logger): Response {
  const appErr = err instanceof RequestError ? new AppError('MALFORMED_REQUEST', `The request could not be read: ${err.message}.`) : new AppError('INTERNAL', 'An unexpected error occurred.');
  if (appErr.code === 'INTERNAL') logger.error('unhandled error outside the API', { error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) });
  return problemAsResponse(appErr);
}

/** Node's HTTP parser's refusals, by its error code, as the registry names them. */
const CLIENT_ERROR_CODES: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
};

/**
 * Answers what Node's HTTP server refuses before any app sees it (a malformed request line or
 * header, headers over 16 KiB, a method it does not know, CONNECT, a timeout) with a problem
 * document instead of Node's bare status line, and closes the connection.
 */
function answerClientErrors(server: Server): void {
  const answer = (socket: Socket, appErr: AppError): void => {
    if (!socket.writable) return void socket.destroy();
    const body = JSON.stringify(toProblem(appErr));
    socket.end(`HTTP/1.1 ${appErr.status} ${appErr.code}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET') return void socket.destroy();
    const code = CLIENT_ERROR_CODES[err.code ?? ''] ?? 'MALFORMED_REQUEST';
    answer(socket, new AppError(code, code === 'MALFORMED_REQUEST' ? 'The request is not well-formed HTTP/1.1.' : undefined));
  });
  server.on('connect', (_req, socket: Socket) => answer(socket, new AppError('METHOD_NOT_ALLOWED', 'CONNECT is not served here.')));
}

/** The stage name the local runtime resolves serverless.yml with. */
export const LOCAL_STAGE = 'local';

export async function startLocalRuntime(opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const wiring = loadServerlessConfig({ stage: LOCAL_STAGE });
  // Table and bus names come from serverless.yml, so local and AWS cannot drift.
  const fromWiring: Partial<Config> = {
    runtime: 'local',
    eventBus: wiring.environment.FANOUT_EVENT_BUS ?? 'fanout-local',
    tableDestinations: wiring.environment.FANOUT_TABLE_DESTINATIONS!,
    tablePresets: wiring.environment.FANOUT_TABLE_PRESETS!,
    tablePlatforms: wiring.environment.FANOUT_TABLE_PLATFORMS!,
    tableTokens: wiring.environment.FANOUT_TABLE_TOKENS!,
    tableSystem: wiring.environment.FANOUT_TABLE_SYSTEM!,
    tableIdempotency: wiring.environment.FANOUT_TABLE_IDEMPOTENCY!,
    tableFlowOutputs: wiring.environment.FANOUT_TABLE_FLOW_OUTPUTS!,
    tableChannels: wiring.environment.FANOUT_TABLE_CHANNELS!,
    tableCosts: wiring.environment.FANOUT_TABLE_COSTS!,
    tableNotifier: wiring.environment.FANOUT_TABLE_NOTIFIER!,
  };
  const engineKind = opts.engine ?? 'local';
  if (engineKind === 'none') {
    wiring.sqsFunctions = wiring.sqsFunctions.filter(runsWithoutEngine);
    wiring.scheduledFunctions = wiring.scheduledFunctions.filter(runsWithoutEngine);
  }
  const base = loadConfig(opts.env ?? process.env);
  const dataDir = resolve(base.dataDir);
  const prepared = prepareDataDir(dataDir);

  const db = await startDynalite(opts.inMemory ? undefined : join(dataDir, 'db'));
  const cfg = Object.freeze({ ...base, ...fromWiring, dataDir, dynamoEndpoint: db.endpoint }) as Config;
  setConfig(cfg);
  const logger = createLogger('local-runtime');
  if (prepared.tightenedFrom) {
    logger.warn('data dir permissions tightened', {
      dataDir,
      from: prepared.tightenedFrom,
      to: '0700',
      reason: 'it holds the database, the stream-key key and the SRT passphrase: other local users must not read them',
    });
  }

  const dynamo = createDynamoClient({ region: cfg.awsRegion, endpoint: db.endpoint });
  await ensureTables(dynamo, wiring.tables);
  // A kill -9 can leave dynalite's indexes disagreeing with their tables (dynalite.ts): mended before anything reads them.
  for (const r of await repairIndexes(dynamo, wiring.tables, (message, data) => logger.warn(message, data))) logger.info('dynalite: index mended after an unclean stop', { ...r });

  // The services' handlers, by the Lambda entry and export serverless.yml names (built below,
  // once the infrastructure they need exists; the bus asks for them only after that).
  let handlerOf: ((fn: FunctionRef) => unknown) | undefined;
  const bus = new LocalEventBus(wiring, {
    resolveHandler: async (fn) => {
      const handler = handlerOf?.(fn);
      if (typeof handler !== 'function') throw new Error(`no local handler for function ${fn.name} (${fn.handler.file} ${fn.handler.exportName})`);
      return handler as LambdaHandler;
    },
    logger: {
      info: (m, a) => logger.info(m, a ?? {}),
      warn: (m, a) => logger.warn(m, a ?? {}),
      error: (m, a) => logger.error(m, a ?? {}),
    },
    timeScale: opts.timeScale ?? 1,
    ...(opts.schedules === false ? { runSchedules: false } : {}),
  });
  const published: BusEntry[] = [];
  const killBeforePublish = opts.killBeforePublish;
  const busPublisher: EventPublisher = {
    async publish(entries) {
      if (killBeforePublish && entries.some(killBeforePublish)) process.kill(process.pid, 'SIGKILL');
      for (const batch of putEventsBatches(entries)) {
        const out = await bus.putEvents(batch.map((e) => ({ ...e, EventBusName: cfg.eventBus })));
        if (out.FailedEntryCount > 0) throw new Error(`local bus rejected ${out.FailedEntryCount} event(s)`);
      }
    },
  };
  const tap = new TappedPublisher(opts.wrapPublisher ? opts.wrapPublisher(busPublisher) : busPublisher);
  // Kept for tests and diagnostics, bounded so a long-running `npm start` does not grow forever.
  tap.onPublished((e) => {
    published.push(e);
    if (published.length > 5000) published.splice(0, published.length - 5000);
  });
  // The engine stands in for AWS media services: its native events go to the default bus as
  // MediaLive's and MediaConnect's would.
  const sink: EngineEventSink = (e) => {
    bus.deliverServiceEvent({ Source: e.source, DetailType: e.detailType, Detail: JSON.stringify(e.detail), Resources: e.resources });
  };
  const { engine, awsFake } = await createEngine(engineKind, {
    sink,
    config: base,
    dataDir,
    deployment: wiring.environment.FANOUT_DEPLOYMENT ?? `fanout-${LOCAL_STAGE}`,
    awsFakeTimeScale: opts.awsFakeTimeScale ?? 1 / 2000,
    persist: opts.persistMemoryEngine === true,
    ...(opts.resolveHost ? { resolveHost: opts.resolveHost } : {}),
  });
  const doc = createDocumentClient(dynamo);
  const sse = new SseHub();
  // GET /metrics for Prometheus (./metrics.ts), read afresh at each scrape; every app tells it of
  // each answered request (latency by matched route).
  const metrics = new LocalMetrics({
    destinations: () => m.destinations.list(),
    ...(engine?.channelMetrics ? { channelMetrics: (channelId: string) => engine.channelMetrics!(channelId) } : {}),
    ...(engine ? { inputHealth: () => engine.inputHealth() } : {}),
    queues: () => ({ stats: bus.queueStats(), oldestAges: bus.oldestMessageAges() }),
    // cost-tracker's own use case, over the same deps (so the same instance) its handlers use.
    ...(engine ? { cost: () => costTrackerFor(serviceDeps(costTracker)).gauges() } : {}),
  });
  const infra: LocalInfrastructure = {
    config: cfg,
    dataDir,
    dynamo,
    doc,
    publisher: tap,
    cipher: LocalKeyFileCipher.open(join(dataDir, 'secrets', 'stream-keys.key')),
    // One ApiAuth for every service's routes: one token store, one request budget per token.
    auth: apiAuthFor({ doc }, cfg),
    sse,
    ...(opts.ssePingMs ? { ssePingMs: opts.ssePingMs } : {}),
    engineKind,
    ...(engine ? { engine } : {}),
    ...(awsFake?.primaryChannelId ? { primaryChannelId: awsFake.primaryChannelId } : {}),
    openApiExtra: Object.values(localServices).flatMap((service) => (service.openApi ? [service.openApi()] : [])),
    ...(opts.resolveHost ? { resolveHost: opts.resolveHost } : {}),
    wiring,
    observeRequest: metrics.observeRequest,
    ...(opts.notifierFetch ? { fetch: opts.notifierFetch } : {}),
  };
  // Each service's deps, built once for this start and shared by its handlers (services/*.ts).
  const depsOf = new Map<object, unknown>();
  const serviceDeps = <D>(service: LocalService<D>): D => {
    if (!depsOf.has(service)) depsOf.set(service, service.deps(infra));
    return depsOf.get(service) as D;
  };
  const handlers = new Map<string, unknown>();
  // What the local twin does for a service that AWS does by itself (local-service.ts `attach`),
  // for the services this start runs; handlers it returns stand in for the plain ones of that name.
  const running = Object.entries(localServices).filter(([, service]) => engine || service.needsEngine !== true);
  const attached = running.flatMap(([file, service]) => {
    const handle = service.attach?.({ deps: serviceDeps(service), bus, infra });
    for (const [exportName, handler] of Object.entries(handle?.handlers ?? {})) handlers.set(`${file}#${exportName}`, handler);
    return handle ? [handle] : [];
  });
  handlerOf = (fn) => {
    const key = `${fn.handler.file}#${fn.handler.exportName}`;
    if (!handlers.has(key)) {
      const service = localServices[fn.handler.file];
      const factory = service?.handlers[fn.handler.exportName];
      if (!service || !factory) return undefined;
      handlers.set(key, factory(serviceDeps(service)));
    }
    return handlers.get(key);
  };

  const m: DestinationModule = destinationModule(serviceDeps(localServices['shared/runtimes/aws/destination.ts']!));
  // Records an older Fanout wrote are rewritten in the current shape before any handler reads
  // them (ADR 0017); a data dir written by a newer Fanout stops the start with the reason.
  try {
    for (const r of await m.migrateStored()) if (r.migrated > 0) logger.info('stored records migrated to the current schema', { ...r });
  } catch (err) {
    await engine?.close();
    // dynalite first: a request still in flight finishes before its database closes (destroying
    // the client first left dynalite reading a closed store: an uncaught LEVEL_ITERATOR_NOT_OPEN).
    await db.close();
    dynamo.destroy();
    if ((err as { code?: string }).code === 'STORE_SCHEMA_TOO_NEW') throw new Error(`${dataDir} was written by a newer Fanout (${(err as Error).message}) Run that version, or restore a backup made with this one.`);
    throw err;
  }
  await m.seed();
  let generatedAdminToken: Secret | undefined;
  if (cfg.adminToken) {
    const { Secret } = await import('../../secrets/secret.ts');
    // The one token with id admin-env: a new FANOUT_ADMIN_TOKEN replaces the old, which stops working.
    await m.tokens.replace(new Secret(cfg.adminToken), { tokenId: ADMIN_ENV_TOKEN_ID, name: 'admin (FANOUT_ADMIN_TOKEN)', role: 'admin' });
  } else {
    // The same rule as the AWS adminBootstrap function: only when no admin token exists, shown once.
    const first = await bootstrapAdminToken(m.tokens, { name: 'admin (generated at first start)' });
    if (first.created) generatedAdminToken = first.token;
  }

  tap.onPublished((e) => forwardToSse(sse, e));
  // Live metrics of running channels and the contribution input's health, while someone watches
  // the event stream (ephemeral: no id, not replayed on resume; the dashboards' status bar and
  // ingest card read them instead of polling).
  const metricsTimer = engine
    ? setInterval(() => {
        if (sse.subscriberCount === 0) return;
        void inputHealthBody(() => engine.inputHealth(), hasInputRedundancy(engine) ? engine : undefined).then(
          (health) => sse.broadcast('input.health', health),
          () => undefined,
        );
        if (!engine.channelMetrics) return;
        void engine.listChannels().then((channels) => {
          for (const c of channels) {
            if (c.state !== 'RUNNING') continue;
            const metrics = engine.channelMetrics?.(c.channelId);
            if (metrics) sse.broadcast('destination.metrics', { destinationId: c.destinationId, ...metrics });
          }
        });
      }, opts.metricsIntervalMs ?? 2000)
    : undefined;
  metricsTimer?.unref();

  // The HTTP functions of serverless.yml, as API Gateway routes them: a function's specific routes
  // first (channelProvisionerApi), `*` (the destination API) for the rest; every app checks tokens
  // with the one ApiAuth of this process. With engine `none` only the destination service runs.
  type FetchApp = { fetch: (req: Request, env?: unknown) => Response | Promise<Response> };
  const httpFunctions = wiring.httpApiFunctions.filter((f) => engine || runsWithoutEngine(f));
  const appOf = (f: (typeof httpFunctions)[number]) => handlerOf!({ name: f.name, handler: f.handler }) as FetchApp;
  const app = appOf(httpFunctions.find((f) => f.routes.includes('*'))!);
  const specificRoutes = httpFunctions.flatMap((f) => f.routes.filter((r) => r !== '*').map((r) => ({ route: r, app: appOf(f) })));
  // API Gateway's route keys: `METHOD /path` or `* /path`, where a last segment `{proxy+}` takes any rest of the path.
  const routeMatches = (route: string, method: string, path: string): boolean => {
    const [m, p] = route.split(' ') as [string, string];
    if (m !== '*' && m !== method) return false;
    return p.endsWith('/{proxy+}') ? path.startsWith(p.slice(0, -'{proxy+}'.length)) && path.length > p.length - '{proxy+}'.length : p === path;
  };
  const metricsApp = createMetricsApp(metrics, { auth: infra.auth, logger });
  // The dashboards' static site (S3 + CloudFront on AWS): / and /admin, /assets/*, /config.json.
  const site = createStaticSite({
    dir: opts.dashboardDir ?? join(repoRoot, '.build/dashboard'),
    config: () => ({
      apiBase: '',
      hlsUrl: '/hls/primary/index.m3u8',
      // 0.0.0.0 / :: listen everywhere: the page shows the host it was loaded from.
      srt: { host: cfg.srtHost === '0.0.0.0' || cfg.srtHost === '::' ? null : cfg.srtHost, port: cfg.srtPort, keyLength: cfg.srtKeyLength },
      runtime: 'local',
    }),
  });
  const fetchApi = async (req: Request, env: unknown): Promise<Response> => {
    // The path as the apps' router reads it (percent-decoded), so a spelling the router accepts
    // reaches the app that owns the route; the app then checks the route's declared access.
    const path = getPath(req);
    if (path === '/metrics') return metricsApp.fetch(req, env);
    const page = await site.handle(req);
    if (page) return page;
    const hit = specificRoutes.find((r) => routeMatches(r.route, req.method, path));
    // env carries the Node request, whose socket gives the client's address.
    return (hit?.app ?? app).fetch(req, env);
  };
  let server: Server;
  try {
    server = await new Promise((resolveServer, reject) => {
      // requireHostHeader off: a request without Host gets the problem document below, not Node's bare 400.
      const s = createServer({ requireHostHeader: false }, getRequestListener(fetchApi, { errorHandler: (err) => requestErrorResponse(err, logger) }));
      answerClientErrors(s);
      s.once('error', reject);
      s.listen(cfg.port, cfg.host, () => resolveServer(s));
    });
  } catch (err) {
    await db.close();
    dynamo.destroy();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`${cfg.host}:${cfg.port} is already in use (another Fanout?). Stop it or set FANOUT_PORT to a free port.`);
    throw err;
  }

  await bus.loadHandlers();
  bus.start();
  // Publish whatever an earlier crash left in an outbox, then bring the engine to the wanted
  // state: outputs first (channels read from them), then channels; each reconcile first sweeps its
  // own records' outbox (ADR 0016). One that fails is retried by its schedule: it does not stop
  // Fanout from starting.
  await m.outbox.sweep();
  for (const fn of running.flatMap(([, service]) => service.atStart ?? [])) await bus.runScheduled(fn).catch(() => undefined); // runScheduled logs its failures

  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info('Fanout is running', { url, dataDir, runtime: 'local' });

  let stopped = false;
  return {
    url,
    config: cfg,
    bus,
    sse,
    published,
    infrastructure: infra,
    destination: m,
    ...(engine ? { engine } : {}),
    ...(awsFake ? { awsFake } : {}),
    ...(generatedAdminToken ? { generatedAdminToken } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(metricsTimer);
      await new Promise<void>((r) => {
        server.close(() => r());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      for (const handle of attached) await handle.stop();
      await bus.stop();
      await engine?.close();
      await db.close(); // before the client: see the refused start above
      dynamo.destroy();
    },
  };
}
