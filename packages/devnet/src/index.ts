export { startDevnet, RpcError, type Devnet, type DevnetOptions, type SignedHeader, type RequestFn } from './devnet.ts';
export { serveDevnet, type DevnetServer } from './server.ts';
export { SERVED_METHODS, isServedMethod } from './surface.ts';
export { devAccounts, devKey, DEFAULT_BLOCK_SIGNER_KEY } from './accounts.ts';
export { DevnetStartError, UnknownBlockError, DevnetClosedError, BeaconNotAvailableError } from './errors.ts';
export { devnetTransport } from './transport.ts';
export { devnetBeacon, DEFAULT_BEACON_SEED, DEVNET_COMMITTEE_KEYS, type DevnetBeacon, type DevnetBeaconOptions, type BeaconApiObject } from './beacon.ts';
