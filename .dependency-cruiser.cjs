/**
 * The architecture, checked: services talk only through events, so no service imports another;
 * event schemas depend on nothing of ours but each other; shared code does not reach into
 * services. The local runtime is the one composition root allowed to wire services together.
 * The CLI (services/cli) talks to the HTTP API only, so it imports nothing of ours outside itself.
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
      from: { path: '^shared/', pathNot: '^shared/runtime/local/' },
      to: { path: '^services/' },
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
