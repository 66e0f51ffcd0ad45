import { keccak256, toBytes, type Hex } from 'viem';

/**
 * Domain tags (bytes32) that separate every hash Geode signs or attests to.
 * Each is keccak256 of an ASCII label; the same constants are in contracts/src/GeodeCore.sol.
 */
export const DOMAIN = {
  config: keccak256(toBytes('geode.config.v1')),
  sessionCreate: keccak256(toBytes('geode.session-create.v1')),
  sessionKeys: keccak256(toBytes('geode.session-keys.v1')),
  commitment: keccak256(toBytes('geode.commitment.v1')),
  blockSignature: keccak256(toBytes('geode.devnet-block.v1')),
  requestAad: keccak256(toBytes('geode.request-aad.v1')),
  outputAad: keccak256(toBytes('geode.output-aad.v1')),
  keyId: keccak256(toBytes('geode.key-id.v1')),
  sessionSuccession: keccak256(toBytes('geode.session-succession.v1')),
} as const satisfies Record<string, Hex>;

/**
 * Storage layout of GeodeCore (solc assigns slots in declaration order; every variable takes a full slot).
 * A test compares these against solc's `storageLayout` output, so a change to the contract that moves a
 * slot fails the build instead of silently breaking the enclave's proofs.
 */
export const SLOT = {
  configHash: 0n,
  requestCount: 1n,
  accumulator: 2n,
  /** mapping(uint256 seq => bytes32 acc): acc(seq) for every seq >= 1. */
  accAt: 3n,
  committedSeq: 4n,
  stateRoot: 5n,
  activeSessionId: 6n,
  sessionCount: 7n,
  /** mapping(uint256 id => Session). Session fields are consecutive slots from keccak(id . 8). */
  sessions: 8n,
} as const;

/** Offsets of the fields of `struct Session` from its base slot. */
export const SESSION_FIELD = {
  nonce: 0n,
  encPubKey: 1n,
  signer: 2n,
  status: 3n,
  mrEnclave: 4n,
} as const;

/** Session status values stored on-chain (uint256). */
export const SESSION_STATUS = { none: 0n, pending: 1n, active: 2n, superseded: 3n } as const;

/** First byte of a request payload. */
export const PAYLOAD_KIND = {
  /** HPKE-sealed: 0x01 || enc (32 bytes, X25519) || ciphertext. */
  private: 0x01,
  /** Plaintext public request, e.g. an on-chain computation creation: 0x02 || data. */
  public: 0x02,
} as const;

/** HPKE `info` strings (RFC 9180 §5.1), ASCII. */
export const HPKE_INFO = {
  request: 'geode.request.v1',
  output: 'geode.output.v1',
} as const;

/** Largest request payload the contract and the enclave accept, in bytes. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;
/** Largest number of requests the enclave processes in one batch (a commitment of 512 outputs is about 3M gas). */
export const MAX_BATCH_REQUESTS = 512;

/**
 * Light-client anchor signer meaning "trusted RPC": the enclave believes the headers its host brings (no signature
 * check; hash links and proofs are still checked). Deployments get it only with --insecure-trusted-rpc, for EVM
 * networks that have no Geode light client yet. It is part of the config hash and readable on-chain (`lcSigner()`),
 * and clients refuse such a deployment unless told to accept it (CLIENT_TRUSTED_RPC).
 */
export const TRUSTED_RPC_SIGNER = '0x0000000000000000000000000000000000000000' as const;
/** The signature a trusted-RPC header carries: 65 zero bytes (explicitly unsigned). */
export const UNSIGNED_HEADER_SIGNATURE = `0x${'00'.repeat(65)}` as const;
