export { startDevnet, RpcError, type Devnet, type DevnetOptions, type SignedHeader, type RequestFn } from './devnet.ts';
export { serveDevnet, type DevnetServer } from './server.ts';
export { SERVED_METHODS, isServedMethod } from './surface.ts';
export { devAccounts, devKey, DEFAULT_BLOCK_SIGNER_KEY } from './accounts.ts';
export { DevnetStartError, UnknownBlockError, DevnetClosedError } from './errors.ts';
export { devnetTransport } from './transport.ts';
