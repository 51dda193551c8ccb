/**
 * The AWS engine's test surface: the in-memory AWS that the local runtime's `aws` engine mode and
 * the tests run the real AWS engine against. Never imported by production code (index.ts is).
 */
export { AwsFake, AWS_TIMINGS, FAST_TIMINGS, type FakeTimings } from './aws-fake.ts';
