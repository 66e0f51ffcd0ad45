/**
 * The JSON-RPC surface the devnet serves over the network (HTTP and WebSocket; see docs/security.md#devnet-rpc-surface).
 *
 * The devnet's headers are the enclave's light client: whoever can rewrite the chain's state through the RPC port can
 * make the block signer sign rewritten history. So the network surface is an allow-list of the standard Ethereum
 * JSON-RPC methods (execution-apis `eth_*`, plus `net_*`/`web3_*`) that read the chain or submit a transaction a
 * client signed itself, and Geode's own `geode_*` methods. Everything else is refused with JSON-RPC -32601, in
 * particular:
 * - test and state-rewriting methods (`hardhat_*`, `evm_*`, `anvil_*`, `debug_*`, `tenderly_*`, `txpool_*`, ...);
 * - account methods the devnet would answer with keys of its own (`eth_sendTransaction`, `eth_sign`,
 *   `eth_signTransaction`, `eth_signTypedData*`, `personal_*`): a client signs locally and uses `eth_sendRawTransaction`.
 * `eth_accounts` answers `[]` (the devnet holds no account for a network client), as a node without unlocked accounts does.
 * In-process callers (`Devnet.request`) keep every method; tests use the test methods there.
 */
export const SERVED_METHODS: ReadonlySet<string> = new Set([
  // chain and blocks
  'eth_chainId', 'eth_blockNumber', 'eth_syncing', 'eth_getBlockByNumber', 'eth_getBlockByHash',
  'eth_getBlockTransactionCountByNumber', 'eth_getBlockTransactionCountByHash', 'eth_getBlockReceipts',
  'eth_getUncleCountByBlockNumber', 'eth_getUncleCountByBlockHash',
  // state
  'eth_getBalance', 'eth_getCode', 'eth_getStorageAt', 'eth_getTransactionCount', 'eth_getProof', 'eth_call',
  'eth_estimateGas', 'eth_createAccessList',
  // fees
  'eth_gasPrice', 'eth_maxPriorityFeePerGas', 'eth_feeHistory', 'eth_blobBaseFee',
  // transactions (signed by the client)
  'eth_sendRawTransaction', 'eth_getTransactionByHash', 'eth_getTransactionByBlockNumberAndIndex',
  'eth_getTransactionByBlockHashAndIndex', 'eth_getTransactionReceipt',
  // logs and filters (viem's watchers over HTTP poll filters)
  'eth_getLogs', 'eth_newFilter', 'eth_newBlockFilter', 'eth_newPendingTransactionFilter', 'eth_getFilterChanges',
  'eth_getFilterLogs', 'eth_uninstallFilter',
  // subscriptions (WebSocket only; answered by the server, not forwarded)
  'eth_subscribe', 'eth_unsubscribe',
  // accounts: answered [] by the server
  'eth_accounts',
  // node
  'net_version', 'net_listening', 'net_peerCount', 'web3_clientVersion', 'web3_sha3',
]);

/** True when a network client may call `method`: a listed standard method or one of Geode's `geode_*` methods. */
export function isServedMethod(method: string, opts: { geodeMethods: boolean }): boolean {
  if (method.startsWith('geode_')) return opts.geodeMethods;
  return SERVED_METHODS.has(method);
}
