export * from './errors.ts';
export * from './identity.ts';
export * from './session.ts';
export * from './client.ts';
export * from './outputs.ts';
