import { encodeAbiParameters, keccak256, type Address, type Hex } from 'viem';
import { abiWords, addressWord, bytes32Word, uint256Word } from './abi-words.ts';
import { DOMAIN } from './constants.ts';

/**
 * Geode's protocol hashes. Every function is pure; each mirrors a Solidity expression in
 * packages/contracts/src/GeodeCore.sol (`keccak256(abi.encode(...))`, Solidity ABI spec), and the
 * contract tests check that both sides agree byte for byte.
 */

/** The deployment configuration the contract is instantiated with and the enclave attests to. */
export interface GeodeConfig {
  /** EIP-155 chain id. */
  chainId: bigint;
  /** The GeodeCore (application) contract address. */
  contract: Address;
  /** Accepted enclave measurements (mr_enclave, 32 bytes each, 0x hex). Order matters for the hash. */
  measurements: readonly Hex[];
  /** On-chain attestation verifier contract address. */
  attestationVerifier: Address;
  /** Light-client trust anchor: the devnet block-signer address (secp256k1). */
  lcSigner: Address;
  /** Light-client trust anchor: the genesis block hash. */
  lcGenesisHash: Hex;
  /** keccak256 of the canonical JSON of the off-chain attestation policy (opaque to the contract). */
  policyHash: Hex;
  /** The deployment's admin: opens the first session and re-keys (GeodeCore.sessionSetPubKey, docs/protocol.md#handshake). */
  admin: Address;
}

/**
 * configHash = keccak256(abi.encode(DOMAIN.config, chainId, contract, keccak256(abi.encodePacked(measurements)),
 * verifier, lcSigner, lcGenesisHash, policyHash, admin)). Returns 0x bytes32.
 */
export function configHash(c: GeodeConfig): Hex {
  const measurementsHash = keccak256(c.measurements.length ? (`0x${c.measurements.map((m) => m.slice(2)).join('')}` as Hex) : '0x');
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'bytes32' },
        { type: 'address' }, { type: 'address' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'address' },
      ],
      [DOMAIN.config, c.chainId, c.contract, measurementsHash, c.attestationVerifier, c.lcSigner, c.lcGenesisHash, c.policyHash, c.admin],
    ),
  );
}

/**
 * report_data[0..32] of the SessionCreate quote:
 * keccak256(abi.encode(DOMAIN.sessionCreate, chainId, contract, configHash, nonce)). report_data[32..64] is zero.
 */
export function sessionCreateReportData(chainId: bigint, contract: Address, cfgHash: Hex, nonce: Hex): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'bytes32' }, { type: 'bytes32' }],
      [DOMAIN.sessionCreate, chainId, contract, cfgHash, nonce],
    ),
  );
}

/**
 * report_data[0..32] of the SessionSetPubKey quote:
 * keccak256(abi.encode(DOMAIN.sessionKeys, chainId, contract, nonce, encPubKey, signer)).
 * `encPubKey` is the 32-byte X25519 HPKE public key (RFC 7748 encoding) as bytes32.
 */
export function sessionKeysReportData(chainId: bigint, contract: Address, nonce: Hex, encPubKey: Hex, signer: Address): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'address' }],
      [DOMAIN.sessionKeys, chainId, contract, nonce, encPubKey, signer],
    ),
  );
}

/**
 * acc(n) = keccak256(abi.encode(bytes32 acc(n-1), uint256 n, address sender, uint256 sessionId, bytes32 keccak256(payload)));
 * acc(0) = bytes32(0). `sessionId` is the contract's activeSessionId when request n was appended (0 if none): the
 * session a private request is sealed to, so it is proven together with the request (GeodeCore._appendRequest).
 */
export function accumulatorStep(prev: Hex, seq: bigint, sender: Address, sessionId: bigint, payloadHash: Hex): Hex {
  // Per request on both sides: fixed-layout words (abi-words.ts), the same bytes as encodeAbiParameters.
  return keccak256(abiWords(bytes32Word(prev), uint256Word(seq), addressWord(sender), uint256Word(sessionId), bytes32Word(payloadHash)));
}

/**
 * Identity of an enclave's key material: keccak256(abi.encode(DOMAIN.keyId, bytes32 encPubKey, address signer)), 0x
 * bytes32. Every enclave state records the keyId of the keys that produced it (its root commits to it), and an
 * enclave continues only states with its own keyId (docs/security.md#state-is-bound-to-its-keys).
 */
export function keyIdOf(encPubKey: Hex, signer: Address): Hex {
  return keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'address' }], [DOMAIN.keyId, encPubKey, signer]));
}

/** The initial accumulator value acc(0). */
export const ACC_ZERO: Hex = `0x${'00'.repeat(32)}`;
/** The state root of the empty application state: the contract starts with it. */
export const ROOT_ZERO: Hex = `0x${'00'.repeat(32)}`;

/**
 * Digest the active session's signer signs (raw secp256k1, no prefix) to hand over to a new session's keys
 * (GeodeCore.sessionSetPubKeyBySuccession): keccak256(abi.encode(DOMAIN.sessionSuccession, chainId, contract,
 * newSessionId, encPubKey, signer)). Returns 0x bytes32.
 */
export function sessionSuccessionDigest(chainId: bigint, contract: Address, newSessionId: bigint, encPubKey: Hex, signer: Address): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }, { type: 'bytes32' }, { type: 'address' }],
      [DOMAIN.sessionSuccession, chainId, contract, newSessionId, encPubKey, signer],
    ),
  );
}

/** What an enclave signs for a processed batch [from, to]. All 0x hex; seqs as bigint. */
export interface Commitment {
  chainId: bigint;
  contract: Address;
  sessionId: bigint;
  from: bigint;
  to: bigint;
  accTo: Hex;
  prevRoot: Hex;
  newRoot: Hex;
  outputsHash: Hex;
  /** keccak256(encodePublicOutputs(publicOutputs)) (public-outputs.ts); publicOutputsHash(NO_PUBLIC_OUTPUTS) when none. */
  publicOutputsHash: Hex;
}

/**
 * Commitment digest signed (raw, no EIP-191 prefix) by the session's secp256k1 key:
 * keccak256(abi.encode(bytes32 DOMAIN.commitment, uint256 chainId, address contract, uint256 sessionId, uint256 from,
 * uint256 to, bytes32 accTo, bytes32 prevRoot, bytes32 newRoot, bytes32 outputsHash, bytes32 publicOutputsHash)).
 */
export function commitmentDigest(c: Commitment): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }, { type: 'uint256' },
        { type: 'uint256' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' },
      ],
      [DOMAIN.commitment, c.chainId, c.contract, c.sessionId, c.from, c.to, c.accTo, c.prevRoot, c.newRoot, c.outputsHash, c.publicOutputsHash],
    ),
  );
}

/** HPKE additional data of a request: abi.encode(DOMAIN.requestAad, chainId, contract, sessionId, sender). */
export function requestAad(chainId: bigint, contract: Address, sessionId: bigint, sender: Address): Hex {
  return abiWords(bytes32Word(DOMAIN.requestAad), uint256Word(chainId), addressWord(contract), uint256Word(sessionId), addressWord(sender));
}

/**
 * HPKE additional data of an epoch-tagged (0x03) private request (docs/protocol.md#rotation):
 * abi.encode(DOMAIN.requestEpochAad, chainId, contract, sessionId, sender, uint256 epoch). Binding the epoch means a
 * payload relabelled to another epoch does not open under either key's additional data.
 */
export function requestEpochAad(chainId: bigint, contract: Address, sessionId: bigint, sender: Address, epoch: number | bigint): Hex {
  return abiWords(bytes32Word(DOMAIN.requestEpochAad), uint256Word(chainId), addressWord(contract), uint256Word(sessionId), addressWord(sender), uint256Word(BigInt(epoch)));
}

/**
 * Digest signed instead of commitmentDigest for a batch that ends with a rotation request (docs/protocol.md#rotation):
 * keccak256(abi.encode(bytes32 DOMAIN.epochCommitment, bytes32 commitmentDigest, uint256 epoch, bytes32 encPubKey)),
 * where `commitmentDigest` is the batch's commitmentDigest(c) and `encPubKey` the new epoch's X25519 request key
 * (GeodeCore.epochCommitmentDigest / commitBatchWithEpoch). Returns 0x bytes32.
 */
export function epochCommitmentDigest(commitment: Hex, epoch: bigint, encPubKey: Hex): Hex {
  return keccak256(abiWords(bytes32Word(DOMAIN.epochCommitment), bytes32Word(commitment), uint256Word(epoch), bytes32Word(encPubKey)));
}

/** HPKE additional data of an output: abi.encode(DOMAIN.outputAad, chainId, contract, sessionId, recipient, seq). */
export function outputAad(chainId: bigint, contract: Address, sessionId: bigint, recipient: Address, seq: bigint): Hex {
  return abiWords(bytes32Word(DOMAIN.outputAad), uint256Word(chainId), addressWord(contract), uint256Word(sessionId), addressWord(recipient), uint256Word(seq));
}

/**
 * Digest the devnet block signer signs for every block (raw secp256k1, no prefix):
 * keccak256(abi.encode(DOMAIN.blockSignature, chainId, number, blockHash)).
 */
export function blockSigningDigest(chainId: bigint, number: bigint, blockHash: Hex): Hex {
  return keccak256(
    encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'bytes32' }], [DOMAIN.blockSignature, chainId, number, blockHash]),
  );
}
