import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hexToBytes, type Address, type Hex } from 'viem';
import { blockSigningDigest, decodeHeader, TRUSTED_RPC_SIGNER, UNSIGNED_HEADER_SIGNATURE, type HeaderFields, type SignedHeaderJson } from '@geode/protocol';
import { LightClientError } from '../errors.ts';
import { addressOfPublicKey } from '../keys.ts';

/**
 * Devnet light client, header part (docs/enclave.md#light-client). Pure predicates, no I/O, no clock
 * (tendermint-rs style: verification apart from fetching). The enclave keeps `TrustedBlock` and advances it to
 * the returned header after every successful verification.
 */

/** The latest block the light client trusts. */
export interface TrustedBlock {
  number: bigint;
  hash: Hex;
}

/** The light-client trust anchor (from the deployment config). */
export interface TrustAnchor {
  chainId: bigint;
  /** Block-signer address (secp256k1), lowercase or checksummed. */
  signer: Address;
  /** Genesis block hash: the initial trusted block is {number 0, hash genesisHash}. */
  genesisHash: Hex;
}

const HALF_N = secp256k1.Point.CURVE().n >> 1n;

/**
 * Recover the signer address of a 65-byte r || s || v (v in {27, 28}) signature over a raw 32-byte digest.
 * Rejects high-s (s > n/2, EIP-2) and malformed signatures with LC_HEADER_SIGNATURE.
 */
export function recoverSigner(digest: Hex, signature: Hex): Address {
  const sig = hexToBytes(signature);
  if (sig.length !== 65) throw new LightClientError('LC_HEADER_SIGNATURE', 'Header signature must be 65 bytes (r || s || v).');
  const v = sig[64]!;
  if (v !== 27 && v !== 28) throw new LightClientError('LC_HEADER_SIGNATURE', `Header signature v must be 27 or 28, got ${v}.`);
  const s = BigInt(`0x${Buffer.from(sig.subarray(32, 64)).toString('hex')}`);
  if (s > HALF_N) throw new LightClientError('LC_HEADER_SIGNATURE', 'Header signature has a high s value (EIP-2); it is malleated.');
  const rec = new Uint8Array(65);
  rec[0] = v - 27;
  rec.set(sig.subarray(0, 64), 1);
  try {
    return addressOfPublicKey(secp256k1.recoverPublicKey(rec, hexToBytes(digest), { prehash: false }));
  } catch (e) {
    throw new LightClientError('LC_HEADER_SIGNATURE', 'Header signature does not recover to a public key.', { cause: e });
  }
}

/**
 * Verify a signed header against the trusted block and anchor:
 * 1. rlp decodes as an execution header (protocol decodeHeader; hash = keccak256(rlp)) — else LC_HEADER_DECODE;
 * 2. the signature recovers to `anchor.signer` over blockSigningDigest(chainId, number, hash) — else LC_HEADER_SIGNATURE
 *    (trusted-RPC anchors, signer = TRUSTED_RPC_SIGNER, carry 65 zero bytes instead and skip this step: see
 *    protocol TRUSTED_RPC_SIGNER; any other signature with such an anchor is refused);
 * 3. number >= trusted.number, and equal numbers have equal hashes — else LC_STALE_HEADER;
 * 4. number == trusted.number + 1 requires parentHash == trusted.hash — else LC_HEADER_LINK.
 * Returns the header fields; the caller advances its trusted block to {number, hash}.
 */
export function verifySignedHeader(trusted: TrustedBlock, header: SignedHeaderJson, anchor: TrustAnchor): HeaderFields {
  const h = decodeHeader(header.rlp as Hex);
  if (anchor.signer.toLowerCase() === TRUSTED_RPC_SIGNER) {
    if (header.signature.toLowerCase() !== UNSIGNED_HEADER_SIGNATURE) throw new LightClientError('LC_HEADER_SIGNATURE', 'This enclave trusts its RPC (no block signer): headers must carry the 65-byte zero signature.');
  } else {
    const signer = recoverSigner(blockSigningDigest(anchor.chainId, h.number, h.hash), header.signature as Hex);
    if (signer !== anchor.signer.toLowerCase()) throw new LightClientError('LC_HEADER_SIGNATURE', `Header ${h.number} is not signed by the trusted block signer. Fetch headers from the chain the enclave was configured for.`, { details: { recovered: signer, expected: anchor.signer.toLowerCase(), number: h.number.toString() } });
  }
  if (h.number < trusted.number) {
    throw new LightClientError('LC_STALE_HEADER', `Header ${h.number} is older than the trusted block ${trusted.number}; send a newer header.`, { details: { number: h.number.toString(), trusted: trusted.number.toString() } });
  }
  if (h.number === trusted.number && h.hash !== trusted.hash.toLowerCase()) {
    throw new LightClientError('LC_STALE_HEADER', `Header ${h.number} conflicts with the trusted block of the same number (fork).`, { details: { hash: h.hash, trusted: trusted.hash } });
  }
  if (h.number === trusted.number + 1n && h.parentHash !== trusted.hash.toLowerCase()) {
    throw new LightClientError('LC_HEADER_LINK', `Header ${h.number} does not link to the trusted block ${trusted.number} (parentHash mismatch).`, { details: { parentHash: h.parentHash, trusted: trusted.hash } });
  }
  return h;
}
