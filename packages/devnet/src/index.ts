export { startDevnet, RpcError, type Devnet, type DevnetOptions, type SignedHeader, type RequestFn } from './devnet.ts';
export { serveDevnet, type DevnetServer } from './server.ts';
export { SERVED_METHODS, isServedMethod } from './surface.ts';
export { devAccounts, devKey, DEFAULT_BLOCK_SIGNER_KEY } from './accounts.ts';
export { DevnetStartError, UnknownBlockError, DevnetClosedError, BeaconNotAvailableError } from './errors.ts';
export { devnetTransport } from './transport.ts';
// The beacon chain (Lodestar, BLS) loads only when used: import '@geode/devnet/beacon'.
export type { DevnetBeacon, DevnetBeaconOptions, BeaconApiObject } from './beacon.ts';
