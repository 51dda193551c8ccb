/**
 * Reads serverless.yml, the single source of truth for the AWS deployment, and derives from it the
 * wiring the local (one-process) runtime needs: event buses, EventBridge rules and their target
 * queues, queue visibility timeouts and redrive (DLQ) policies, SQS consumer functions and their
 * batching settings, scheduled functions, DynamoDB table key schemas and the provider environment.
 *
 * It understands exactly the subset of Serverless Framework v3 that serverless.yml uses, and fails
 * loudly (throws `ServerlessConfigError` naming the path) for anything else rather than letting the
 * local runtime silently diverge from what AWS would run:
 *  - variables: `${sls:stage}`, `${opt:stage|region, fallback}`, `${self:a.b.c}` (incl. `${self:service}`),
 *    `${aws:region}`, `${aws:accountId}` (a fake local account), `${env:NAME, fallback}`, fallbacks
 *    (`, 'literal'`, `, 123`, `, ${other:var}`) and nesting (`${self:custom.${sls:stage}}`);
 *    CloudFormation placeholders such as `${AWS::Region}` or `${Table.Arn}` (in `Fn::Sub`) are left as is;
 *  - intrinsics in the long form only (`Ref`, `Fn::GetAtt`); the YAML short tags (`!Ref`) are rejected.
 *
 * Values are resolved lazily: only the parts of the file the local wiring uses must be resolvable
 * locally, so AWS-only settings elsewhere in the file never break the local runtime.
 *
 * Two jobs, two modules: serverless-config/resolver.ts resolves variables, serverless-config/
 * wiring-builder.ts builds the wiring from what resolves; this file reads the file and is what
 * the runtime imports (types in serverless-config/types.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import { Resolver, isObject } from './serverless-config/resolver.ts';
import { ServerlessConfigError, type LoadOptions, type LocalWiring } from './serverless-config/types.ts';
import { WiringBuilder } from './serverless-config/wiring-builder.ts';

export * from './serverless-config/types.ts';
export { handlerRef, parseRate } from './serverless-config/wiring-builder.ts';

/**
 * Repository root: the nearest directory above this module holding serverless.yml (this file lives
 * in shared/runtimes/local/ when run from source, in .build/<name>/ when bundled by build.ts).
 */
export const repoRoot: string = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'serverless.yml'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no serverless.yml in ${from} or above it`);
  }
}
export const defaultServerlessFile: string = join(repoRoot, 'serverless.yml');

/** The loader's result. */
export type ServerlessConfig = LocalWiring;

export function loadServerlessConfig(opts: LoadOptions = {}): ServerlessConfig {
  const file = opts.file ?? defaultServerlessFile;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ServerlessConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseServerlessConfig(text, opts);
}

/** Same as `loadServerlessConfig`, from the file's text. */
export function parseServerlessConfig(text: string, opts: LoadOptions = {}): ServerlessConfig {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new ServerlessConfigError(`invalid YAML: ${doc.errors.map((e) => e.message).join('\n')}`);
  const tagProblems = doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (tagProblems.length > 0) {
    throw new ServerlessConfigError('YAML short-form intrinsics (!Ref, !GetAtt, !Sub ...) are not allowed; use the long form ' + `(Ref: X, Fn::GetAtt: [X, Arn], Fn::Sub: ...):\n${tagProblems.map((w) => w.message).join('\n')}`);
  }
  const raw: unknown = doc.toJS();
  if (!isObject(raw)) throw new ServerlessConfigError('the file is not a YAML mapping');
  return new WiringBuilder(new Resolver(raw, opts)).build();
}
