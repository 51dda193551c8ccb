export * from './secret.ts';
export * from './cipher.ts';
export * from './redact.ts';
