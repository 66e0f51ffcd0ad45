export * from './errors.ts';
export * from './enclave.ts';
export * from './chain.ts';
export * from './relayer.ts';
export * from './deploy.ts';
export * from './beacon.ts';
export * from './handover.ts';
export * from './follow.ts';
