/**
 * The AWS media engine's public surface (production code). Test support (the in-memory AWS,
 * request capture, model validator, engine contract) is imported from its own modules by tests,
 * so aws-sdk-client-mock never reaches a Lambda bundle.
 */
export { AwsMediaEngine, createAwsClients, validateAwsEngineConfig, FLOW_ARN, INPUT_ARN, TAGS, type AwsEngineConfig, type AwsEngineDeps } from './aws-engine.ts';
export { AWS_ENGINE_ERRORS, AwsEngineError, toDomainError, QUOTAS, type AwsEngineErrorCode, type AwsValidationError } from './errors.ts';
export { channelSettings, encoderSettings, DEFAULT_INPUT_LOSS, DEFAULT_PASSTHROUGH, type InputLossSettings, type PassthroughEncode } from './channel-settings.ts';
export { AwsMetricsReader, type AwsMetricsReaderConfig, type AwsMetricsReaderDeps } from './metrics-reader.ts';
export { AwsInputRedundancy, DEFAULT_AWS_FAILOVER, SOURCE_NAMES, type AwsInputsConfig, type AwsInputsDeps } from './aws-inputs.ts';
