/**
 * Every service the local runtime runs, by the Lambda entry serverless.yml names for its
 * functions (`handler: shared/runtimes/aws/<service>.<export>`). A new service adds one file in
 * this folder (local-service.ts says what it holds) and one line here. The order is the start-up
 * order of their `atStart` runs (flow outputs before channels).
 */
import { channelProvisioner } from './channel-provisioner.ts';
import { costTracker } from './cost-tracker.ts';
import { destination } from './destination.ts';
import { flowOutput } from './flow-output.ts';
import { notifier } from './notifier.ts';
import type { LocalService } from './local-service.ts';

export const localServices: Record<string, LocalService<any>> = {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  'shared/runtimes/aws/destination.ts': destination,
  'shared/runtimes/aws/flow-output.ts': flowOutput,
  'shared/runtimes/aws/channel-provisioner.ts': channelProvisioner,
  'shared/runtimes/aws/cost-tracker.ts': costTracker,
  'shared/runtimes/aws/notifier.ts': notifier,
};

export { defineLocalService, requireEngine, type LocalEngine, type LocalInfrastructure, type LocalService } from './local-service.ts';
