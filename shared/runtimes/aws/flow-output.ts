/**
 * The Lambda entries of flow-output (serverless.yml: flowOutputInbox, flowOutputReconcile). Builds
 * FlowOutputDeps from configuration, once per container and only on the first invocation:
 * DynamoDB, EventBridge and the AWS media engine (MediaConnect, MediaLive).
 *
 * Input switches (issue 15, ADR 0024 "AWS"): MediaConnect puts no event on EventBridge when its
 * source failover switches, and a Lambda cannot put an `aws.*` event there, so the reconcile (every
 * minute) also observes the flow's inputs (`inputsHealth`) with the engine's sink collecting the
 * native-shaped "MediaConnect Source Failover Switch" it reports (a switch MediaConnect made, or
 * one the API recorded), and hands each to flow-output's own InputSwitched path, as the inbox does
 * for a queued one.
 */
import { createHash } from 'node:crypto';
import { MediaConnectSourceFailoverSwitch } from '../../../events/native/schemas.ts';
import { config, type Config } from '../../config/index.ts';
import { createLogger } from '../../logging/logger.ts';
import type { FlowOutputDeps } from '../../../services/flow-output/src/deps.ts';
import { createInboxHandler } from '../../../services/flow-output/src/handlers/inbox.ts';
import { createReconcileHandler } from '../../../services/flow-output/src/handlers/reconcile.ts';
import { flowOutputService, SERVICE_NAME } from '../../../services/flow-output/src/module.ts';
import type { AwsEngineDeps, AwsMediaEngine } from '../../engines/aws/index.ts';
import type { NativeEngineEvent } from '../../engines/port/ports.ts';
import { awsPublisher, awsStore, lazyHandler, once, requireSettings } from './base.ts';
import { createAwsEngine, ENGINE_SETTINGS } from './engine.ts';

/** flow-output's deps on AWS, and the switches its engine reported since they were last taken. */
export interface AwsFlowOutputDeps extends FlowOutputDeps {
  flow: AwsMediaEngine;
  takeSwitches(): NativeEngineEvent[];
}

/** flow-output's dependencies on AWS, from configuration (`engineDeps`: clients of the tests' own). */
export function flowOutputDepsFromConfig(cfg: Config, engineDeps?: AwsEngineDeps): AwsFlowOutputDeps {
  requireSettings(cfg, ENGINE_SETTINGS);
  let switches: NativeEngineEvent[] = [];
  const sink = (e: NativeEngineEvent) => void switches.push(e);
  const flow = createAwsEngine(cfg, engineDeps ? { ...engineDeps, sink } : undefined, sink);
  return {
    config: cfg,
    ...awsStore(cfg),
    publisher: awsPublisher(cfg),
    log: createLogger(SERVICE_NAME),
    flow,
    takeSwitches: () => {
      const taken = switches;
      switches = [];
      return taken;
    },
  };
}

/**
 * Observes the inputs and publishes InputSwitched for each switch the engine reported. The
 * native event's id is derived from the switch, so the correlation id is stable for it.
 */
export async function reportInputSwitches(deps: AwsFlowOutputDeps): Promise<number> {
  try {
    await deps.flow.inputsHealth();
  } catch (err) {
    deps.log.warn('inputs could not be observed; the next reconcile retries', { error: err instanceof Error ? err.message : String(err) });
  }
  const taken = deps.takeSwitches();
  for (const e of taken) {
    const id = createHash('sha256')
      .update(JSON.stringify([e.resources, e.detail]))
      .digest('hex')
      .slice(0, 32);
    const wire = MediaConnectSourceFailoverSwitch.parse({
      version: '0',
      id,
      'detail-type': e.detailType,
      source: e.source,
      account: '',
      time: String(e.detail.switched_at),
      region: deps.config.awsRegion,
      resources: e.resources,
      detail: e.detail,
    });
    await flowOutputService(deps).reportInputSwitch(wire, `native-${id}`);
  }
  return taken.length;
}

export function flowOutputLambdas(deps: () => AwsFlowOutputDeps) {
  return {
    inbox: lazyHandler(() => createInboxHandler(deps())),
    reconcile: lazyHandler(() => {
      const reconcile = createReconcileHandler(deps());
      return async () => {
        const result = await reconcile();
        return { ...result, inputSwitches: await reportInputSwitches(deps()) };
      };
    }),
  };
}

export const { inbox, reconcile } = flowOutputLambdas(once(() => flowOutputDepsFromConfig(config())));
