export * from './secret.ts';
export * from './cipher.ts';
