import { keccak_256 } from '@noble/hashes/sha3.js';
import { createKeccak, type IHasher } from 'hash-wasm';

/**
 * Keccak-256 (the original Keccak submission with 0x01 padding, as Ethereum and the Yellow Paper's MPT use it; not
 * FIPS 202 SHA3-256) for the store's trie: node hashes, the root, and the check that a node read back hashes to its
 * key. Input any bytes, output 32 bytes.
 *
 * Why two libraries: hashing trie nodes is most of the store's CPU (every put rehashes its whole path). hash-wasm's
 * WebAssembly Keccak is about 8x faster than @noble/hashes' JavaScript one on trie-node sizes (measured: 2.1 vs
 * 20.3 µs for a 532-byte branch node, 0.8 vs 6.1 µs for a 70-byte leaf), but WebAssembly can only be
 * instantiated asynchronously. So the WASM hasher is started when this module loads, `keccakReady` resolves once it
 * is there, and until then (or if it could not start) the same function hashes with @noble/hashes: the output is
 * the same function of the input either way (store-keccak.test.ts checks them against each other and against
 * known digests), only the speed differs. node:crypto has no Keccak-256 (its 'sha3-256' pads differently).
 */
let wasm: IHasher | undefined;

/** Resolves when the WebAssembly hasher is in use (never rejects: on failure @noble/hashes stays in use). */
export const keccakReady: Promise<void> = createKeccak(256).then(
  (h) => {
    wasm = h;
  },
  () => undefined,
);

/** Keccak-256 of `data` (32 bytes, a fresh array). Synchronous; see the module doc for which library runs. */
export function keccak256(data: Uint8Array): Uint8Array {
  if (wasm === undefined) return keccak_256(data);
  // One shared hasher: init/update/digest run synchronously, so no other call can interleave.
  wasm.init();
  wasm.update(data);
  return wasm.digest('binary');
}

/** Which implementation keccak256 is currently using (for tests and benchmarks). */
export function keccakBackend(): 'wasm' | 'js' {
  return wasm === undefined ? 'js' : 'wasm';
}

/**
 * Keccak-256 of 0x hex (or bytes) as 0x hex, the shape of viem's keccak256(data) with the default 'hex' output:
 * the enclave's per-request protocol hashes (payload hashes, the accumulator, outputsHash) use it so that they run
 * on the WebAssembly Keccak too. Throws TypeError for a string that is not 0x hex of whole bytes.
 */
export function keccak256Hex(data: `0x${string}` | Uint8Array): `0x${string}` {
  let bytes: Uint8Array;
  if (typeof data === 'string') {
    if (!/^0x([0-9a-fA-F]{2})*$/.test(data)) throw new TypeError(`keccak256Hex: ${data.slice(0, 20)}… is not 0x hex of whole bytes`);
    bytes = Buffer.from(data.slice(2), 'hex');
  } else {
    bytes = data;
  }
  const d = keccak256(bytes);
  return `0x${Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex')}`;
}
