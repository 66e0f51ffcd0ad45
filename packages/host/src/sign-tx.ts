import { createKeccak, type IHasher } from 'hash-wasm';
import { bytesToHex, parseSignature, serializeTransaction, type Account, type LocalAccount, type TransactionSerializable, type TransactionSerializableEIP1559, type TransactionSerializedEIP1559 } from 'viem';
import { toAccount } from 'viem/accounts';

/**
 * Keccak-256 (Ethereum's, the original Keccak padding; not FIPS 202 SHA3-256) by hash-wasm's WebAssembly build,
 * started when this module loads. Why not viem's keccak256: it runs @noble/hashes' JavaScript Keccak, which on this
 * machine hashes a 100 KB commitment transaction in about 40 ms of the host's main thread (the thread that also
 * serves the in-process devnet and drives the enclave), hash-wasm in about 2 ms. node:crypto has no Keccak-256 (its
 * 'sha3-256' pads differently).
 */
const hasher: Promise<IHasher> = createKeccak(256);
hasher.catch(() => undefined); // a failure is reported by the first signTransactionWasm call

/** A local account: one that signs a 32-byte hash itself (viem's privateKeyToAccount / mnemonicToAccount). */
type HashSigningAccount = LocalAccount & { sign: NonNullable<LocalAccount['sign']> };

/** True when `account` can sign a raw hash (a local account), which signTransactionWasm needs. */
export function signsHashes(account: Account): account is HashSigningAccount {
  return account.type === 'local' && typeof account.sign === 'function';
}

/**
 * Sign an EIP-1559 transaction (EIP-2718 type 2) with a local account, exactly as viem's `signTransaction` does
 * (the signature is over keccak256(0x02 || rlp(fields)), RFC 6979 deterministic, so the result is byte-identical;
 * packages/host/test/sign-tx.test.ts checks this) but hashing with the WebAssembly Keccak-256 above.
 *
 * @param account A local account (signsHashes(account) must hold).
 * @param tx The transaction fields (chainId, nonce, gas, fees, to, data), as viem's serializeTransaction takes them.
 * @returns The signed transaction, 0x02 || rlp(fields and signature) as hex, ready for eth_sendRawTransaction.
 * @throws Whatever hash-wasm's start-up threw if WebAssembly is unavailable.
 */
export async function signTransactionWasm(account: HashSigningAccount, tx: Omit<TransactionSerializableEIP1559, 'type'>): Promise<TransactionSerializedEIP1559> {
  const h = await hasher;
  const unsigned = serializeTransaction({ ...tx, type: 'eip1559' });
  // init/update/digest run synchronously on one shared hasher: no other call interleaves.
  h.init();
  h.update(Buffer.from(unsigned.slice(2), 'hex'));
  const hash = bytesToHex(h.digest('binary'));
  const signature = parseSignature(await account.sign({ hash }));
  return serializeTransaction({ ...tx, type: 'eip1559' }, signature);
}

/**
 * `account` with its transaction signing hashed by the WebAssembly Keccak (signTransactionWasm) for EIP-1559
 * transactions serialized the standard way; anything else (other types, a chain's own serializer) and every other
 * operation go to `account` itself. An account that cannot sign a hash (JSON-RPC: the node signs) is returned as is.
 * The host's wallet signs with it, so what it sends is unchanged (same bytes) and only cheaper to produce.
 */
export function withWasmKeccak(account: Account): Account {
  if (!signsHashes(account)) return account;
  return toAccount({
    address: account.address,
    nonceManager: account.nonceManager,
    sign: account.sign,
    signAuthorization: account.signAuthorization,
    signMessage: account.signMessage,
    signTypedData: account.signTypedData,
    async signTransaction(tx: TransactionSerializable, opts?: Parameters<LocalAccount['signTransaction']>[1]) {
      if (tx.type !== 'eip1559' || opts?.serializer) return account.signTransaction(tx, opts);
      return signTransactionWasm(account, tx);
    },
  });
}
