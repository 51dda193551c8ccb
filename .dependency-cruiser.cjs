/**
 * The architecture, checked (docs/ARCHITECTURE.md "Layout", ADR 0019):
 *  - services talk only through events, so no service imports another;
 *  - event schemas depend on nothing of ours but each other;
 *  - shared code does not reach into services; the runtimes (shared/runtimes/) are the composition
 *    roots allowed to wire services together;
 *  - the media engines (shared/engines/<engine>/) are reached through the port
 *    (shared/engines/port/) by services, and through an engine's entry (index.ts, or testing.ts for
 *    test support) by the runtimes; no engine reaches into another;
 *  - services and the shared libraries never import a runtime: a service declares its deps and the
 *    runtimes supply them (ADR 0021);
 *  - the CLI (services/cli) talks to the HTTP API only, so it imports nothing of ours outside itself.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-service-to-service-imports',
      comment: 'Services talk through versioned domain events, never by importing each other.',
      severity: 'error',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/([^/]+)/', pathNot: '^services/$1/' },
    },
    {
      name: 'cli-is-a-client-of-the-api',
      comment:
        'The fanout CLI (services/cli) is a face of the public HTTP API, like the dashboard: it may not import ' +
        'services, shared code or event schemas, only its own modules and npm packages (it reads what the API returns).',
      severity: 'error',
      from: { path: '^services/cli/' },
      to: { path: '^(services/|shared/|events/)', pathNot: '^services/cli/' },
    },
    {
      name: 'events-are-self-contained',
      comment: 'Event schemas are contracts: they may not depend on service or shared code.',
      severity: 'error',
      from: { path: '^events/' },
      to: { path: '^(services|shared)/' },
    },
    {
      name: 'shared-does-not-import-services',
      comment: 'Only the local runtime (the composition root) wires services together.',
      severity: 'error',
      from: { path: '^shared/', pathNot: '^shared/runtimes/' },
      to: { path: '^services/' },
    },
    {
      name: 'services-never-import-a-runtime',
      comment:
        'A service declares what it needs (src/deps.ts) and its handlers are factories over it; the runtimes ' +
        '(shared/runtimes/) supply it. A service that reached into a runtime would be back to a service locator (ADR 0021).',
      severity: 'error',
      from: { path: '^services/' },
      to: { path: '^shared/runtimes/' },
    },
    {
      name: 'shared-libraries-never-import-a-runtime',
      comment:
        'The shared libraries (shared/ outside runtimes/ and engines/) are what services and runtimes are built from; ' +
        'they are handed their clients, never fetch them from a runtime (ADR 0021).',
      severity: 'error',
      from: { path: '^shared/', pathNot: '^shared/(runtimes|engines)/' },
      to: { path: '^shared/runtimes/' },
    },
    {
      name: 'services-use-the-engine-port',
      comment: 'A service asks for a FlowEngine / ChannelEngine (shared/engines/port/); which engine it gets is the runtime\'s choice.',
      severity: 'error',
      from: { path: '^services/' },
      to: { path: '^shared/engines/', pathNot: '^shared/engines/port/' },
    },
    {
      name: 'engines-are-entered-by-their-entry',
      comment:
        'Outside an engine, only its entries (index.ts; readers.ts, read-only; testing.ts for test support) may be imported: the hub, ' +
        'the fan-out, the supervisor, the MediaLive settings are the engine\'s own business.',
      severity: 'error',
      from: { pathNot: '^shared/engines/' },
      to: { path: '^shared/engines/(local|aws|memory)/', pathNot: '^shared/engines/[^/]+/(index|readers|testing)\\.ts$' },
    },
    {
      name: 'no-engine-reaches-into-another',
      comment: 'Engines share the port and the shared libraries, never each other\'s code.',
      severity: 'error',
      from: { path: '^shared/engines/([^/]+)/' },
      to: { path: '^shared/engines/([^/]+)/', pathNot: '^shared/engines/($1|port)/' },
    },
    {
      name: 'the-port-depends-on-no-engine',
      comment: 'The port is what every engine implements; it names none of them.',
      severity: 'error',
      from: { path: '^shared/engines/port/' },
      to: { path: '^shared/engines/(local|aws|memory)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(node_modules|\\.test\\.ts$|/fixtures/)' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
