/**
 * The AWS engine's read-only entry: what the destination API reads from MediaConnect and
 * CloudWatch (input health, destination metrics) without the engine itself, so the api function's
 * bundle holds no MediaLive client and no engine (test/lambda-bundles.test.ts); and the input
 * redundancy over MediaConnect alone (aws-inputs.ts), which the API switches and tests with.
 */
export { AwsMetricsReader } from './metrics-reader.ts';
export { AwsInputRedundancy, type AwsInputsConfig, type AwsInputsDeps } from './aws-inputs.ts';
