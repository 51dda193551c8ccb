/**
 * What each Lambda bundle holds: every function's entry (shared/runtimes/aws/<service>.ts) is
 * bundled the way serverless-esbuild does at `serverless package` (the options of serverless.yml's
 * custom.esbuild: bundle everything, @aws-sdk included, ESM for Node 22), and the metafile says
 * which modules went in. The destination service's functions carry no media engine: no MediaLive
 * client, nothing of shared/engines/ but the port, the read-only readers (input health from
 * MediaConnect's DescribeFlow, metrics from CloudWatch) and the MediaConnect-only input redundancy
 * (aws-inputs.ts, with the AWS error mapping it throws through); the services that drive the engine do
 * carry it (so the check can fail).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { parse } from 'yaml';
import { loadServerlessConfig, repoRoot } from '../shared/runtimes/local/serverless-config.ts';

/** serverless.yml's custom.esbuild, as the plugin hands it to esbuild (its own keys left out). */
function slsEsbuildOptions(): BuildOptions {
  const yml = parse(readFileSync(join(repoRoot, 'serverless.yml'), 'utf8')) as { custom: { esbuild: Record<string, unknown> } };
  const { bundle, minify, target, platform, format, banner, exclude } = yml.custom.esbuild as {
    bundle: boolean;
    minify: boolean;
    target: string;
    platform: 'node';
    format: 'esm';
    banner: { js: string };
    exclude: string[];
  };
  assert.deepEqual(exclude, [], 'everything is bundled, @aws-sdk included');
  return { bundle, minify, target, platform, format, banner, external: exclude, outExtension: { '.js': '.mjs' } };
}

async function bundleInputs(entry: string): Promise<string[]> {
  const result = await build({ ...slsEsbuildOptions(), entryPoints: [join(repoRoot, entry)], outdir: '/tmp/fanout-lambda-bundle-not-written', write: false, metafile: true, logLevel: 'silent' });
  return Object.keys((result.metafile as Metafile).inputs);
}

const MEDIA_CLIENTS = [/node_modules\/@aws-sdk\/client-medialive\//];

test("the destination service's Lambda bundles hold no MediaLive client and no engine, only its read-only readers", { timeout: 120_000 }, async () => {
  const w = loadServerlessConfig({ stage: 'dev' });
  const files = new Set([...w.sqsFunctions, ...w.scheduledFunctions, ...w.httpApiFunctions].map((f) => f.handler.file));
  assert.ok(files.has('shared/runtimes/aws/destination.ts'), 'the api, inbox and outbox relay functions are the destination entry');
  const inputs = await bundleInputs('shared/runtimes/aws/destination.ts');
  assert.ok(
    inputs.some((i) => i.startsWith('services/destination/src/handlers/')),
    'the bundle holds the service',
  );
  assert.ok(
    inputs.some((i) => /node_modules\/@aws-sdk\/client-dynamodb\//.test(i)),
    'and the clients it needs (DynamoDB)',
  );
  for (const client of MEDIA_CLIENTS)
    assert.deepEqual(
      inputs.filter((i) => client.test(i)),
      [],
      `${client}`,
    );
  assert.deepEqual(
    inputs.filter((i) => i.startsWith('shared/engines/') && !i.startsWith('shared/engines/port/') && !/^shared\/engines\/aws\/(readers|metrics-reader|aws-inputs|errors)\.ts$/.test(i)),
    [],
    'no engine code',
  );
});

test('the services that drive the engine bundle the AWS engine and its clients', { timeout: 120_000 }, async () => {
  for (const entry of ['shared/runtimes/aws/channel-provisioner.ts', 'shared/runtimes/aws/flow-output.ts']) {
    const inputs = await bundleInputs(entry);
    for (const client of MEDIA_CLIENTS)
      assert.ok(
        inputs.some((i) => client.test(i)),
        `${entry}: ${client}`,
      );
    assert.ok(inputs.includes('shared/engines/aws/aws-engine.ts'), entry);
    assert.ok(!inputs.some((i) => i.startsWith('shared/engines/aws/') && /(fake|testing|request-capture|model-validator)/.test(i)), `${entry}: no test support`);
  }
});
