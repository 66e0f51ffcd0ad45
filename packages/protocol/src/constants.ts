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
  /** Key handover (docs/protocol.md#handover): the newcomer's request report data. */
  handoverRequest: keccak256(toBytes('geode.handover-request.v1')),
  /** Key handover: the HPKE additional data of the sealed key material. */
  handoverMessage: keccak256(toBytes('geode.handover-message.v1')),
  /** Key handover: the sender's report data over the message it sends. */
  handoverSender: keccak256(toBytes('geode.handover-sender.v1')),
  /** Rotation epochs (docs/protocol.md#rotation): HPKE additional data of an epoch-tagged private request. */
  requestEpochAad: keccak256(toBytes('geode.request-epoch-aad.v1')),
  /** Rotation epochs: the digest of a commitment whose batch ends with a rotation request (it carries the new key). */
  epochCommitment: keccak256(toBytes('geode.epoch-commitment.v1')),
  /** Backup (docs/protocol.md#backup): the HPKE additional data of key material sealed to the recovery key. */
  backup: keccak256(toBytes('geode.backup.v1')),
} as const satisfies Record<string, Hex>;

/**
 * Storage layout of GeodeCore (solc assigns slots in declaration order; every variable takes a full slot).
 * A test compares these against solc's `storageLayout` output, so a change to the contract that moves a
 * slot fails the build instead of silently breaking the enclave's proofs.
 */
export const SLOT = {
  configHash: 0n,
  requestCount: 1n,
  /**
   * mapping(uint256 seq => bytes32 acc): acc(seq) for every seq >= 1 (accAt[0] unwritten, acc(0) = 0). The latest,
   * acc(requestCount), has no slot of its own: the contract's accumulator() reads accAt[requestCount].
   */
  accAt: 2n,
  committedSeq: 3n,
  stateRoot: 4n,
  activeSessionId: 5n,
  sessionCount: 6n,
  /** mapping(uint256 id => Session). Session fields are consecutive slots from keccak(id . 7). */
  sessions: 7n,
  /**
   * mapping(uint256 id => bytes32 reportData): the report data of handover request `id` (docs/protocol.md#handover);
   * not part of the batch layout (slots 0..7) but proven by a keyed instance before it hands its keys over.
   */
  handoverRequests: 11n,
  /**
   * Rotation epochs (docs/protocol.md#rotation): mapping(uint256 epoch => Epoch {requestSeq, encPubKey, fromSeq}),
   * rotationCount and startedEpoch. Not proven by the enclave (the rotation requests are in the accumulator); pinned
   * here so that the layout test keeps them where the docs say.
   */
  epochs: 13n,
  rotationCount: 14n,
  startedEpoch: 15n,
  /** bytes32: the deployment's recovery key (docs/protocol.md#backup), proven by a keyed instance before it exports a backup. */
  recoveryKey: 16n,
  /** Rotation schedule (docs/protocol.md#rotation-schedule): not proven (its rotation requests are in the accumulator). */
  rotateEveryRequests: 17n,
  rotationScheduleFrom: 18n,
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
  /**
   * HPKE-sealed to one rotation epoch's key (docs/protocol.md#rotation): 0x03 || epoch (uint32 big-endian) ||
   * enc (32 bytes) || ciphertext. The epoch is also in the HPKE additional data (requestEpochAad).
   */
  privateEpoch: 0x03,
} as const;

/**
 * Rotation epochs of the request key (docs/protocol.md#rotation). Epoch 0's seed is the key material's original
 * hpkeSeed; seed(e+1) = HKDF-SHA256(ikm = seed(e), salt = empty, info = RATCHET_INFO || uint32 BE e, 32 bytes)
 * (RFC 5869, node:crypto hkdfSync); epoch e's X25519 key pair is DeriveKeyPair(seed(e)) (RFC 9180 §7.1.3).
 */
export const EPOCH = {
  /** ASCII info prefix of the seed ratchet. */
  ratchetInfo: 'geode.epoch-ratchet.v1',
  /** Public request kind of a rotation (appended by GeodeCore.requestRotation; body abi.encode(uint256 epoch)). */
  rotateKind: 'geode.rotate-epoch',
  /**
   * Grace: a request sealed to epoch e is still read while the state's epoch is e or e + 1 (one epoch of grace);
   * from epoch e + 2 on it gets ENCLAVE_EPOCH_RETIRED.
   */
  graceEpochs: 1,
  /** Largest epoch number an envelope can name (uint32). */
  max: 0xffff_ffff,
} as const;

/** HPKE `info` strings (RFC 9180 §5.1), ASCII. */
export const HPKE_INFO = {
  request: 'geode.request.v1',
  output: 'geode.output.v1',
  /** The key material sealed to a newcomer's attested handover key (docs/protocol.md#handover). */
  handover: 'geode.handover.v1',
  /** The key material sealed to the deployment's recovery key (docs/protocol.md#backup). */
  backup: 'geode.backup.v1',
} as const;

/** Largest request payload the contract and the enclave accept, in bytes. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;
/** Largest number of requests the enclave processes in one batch. */
export const MAX_BATCH_REQUESTS = 512;

/**
 * Output caps (docs/protocol.md#caps): nothing a user sends can make a commitment too large to land.
 *
 * Unit: *encoded output bytes*, what an output adds to the commitment's `outputs` (abi.encode(Output[])): a
 * 32-byte array offset, the 3-word tuple head (recipient, seq, ciphertext offset), the ciphertext length word and
 * the ciphertext padded to 32 bytes, counted as if delivered (ciphertext = 32-byte enc || plaintext || 16-byte
 * tag) whether or not the recipient has an output key: {@link encodedOutputBytes}.
 *
 * - A request whose outputs exceed MAX_OUTPUTS_PER_REQUEST or MAX_OUTPUT_BYTES_PER_REQUEST gets one error output
 *   (ENCLAVE_OUTPUT_LIMIT) to its sender instead, and its state changes are dropped; the batch goes on.
 * - A batch ends before the request whose outputs would take the batch over MAX_OUTPUT_BYTES_PER_BATCH (the
 *   enclave returns the shorter [from, to']). Cutting never changes a request's outcome, and as
 *   MAX_OUTPUT_BYTES_PER_REQUEST <= MAX_OUTPUT_BYTES_PER_BATCH every batch holds at least one request.
 *
 * Gas at the cap (osaka, EIP-7623 floor of 10 gas per calldata token, 4 tokens per non-zero byte): `outputs` of
 * 131,072 bytes + ~420 bytes of other arguments, all non-zero in the worst case: floor 21,000 + 40 x 131,500 =
 * 5.28M gas; the execution-priced cost (16/byte calldata, LOG 8/byte, keccak, calldata->memory copies and their
 * quadratic memory expansion for two 128 KiB buffers) is about 3.5M. Either way under a third of the EIP-7825
 * per-transaction cap 2^24 = 16,777,216, and far under the devnet block gas limit of 60M.
 * packages/contracts/test/caps.test.ts commits such a batch and checks the measured gas.
 */
export const MAX_OUTPUTS_PER_REQUEST = 64;
/** Largest encoded output bytes one request may cause (see MAX_OUTPUTS_PER_REQUEST). 64 KiB. */
export const MAX_OUTPUT_BYTES_PER_REQUEST = 64 * 1024;
/** Largest encoded output bytes of one batch (the commitment's `outputs` minus its 64-byte array header). 128 KiB. */
export const MAX_OUTPUT_BYTES_PER_BATCH = 128 * 1024;
/** EIP-7825 per-transaction gas cap (osaka): 2^24. The host never sends a commitment estimated above it. */
export const TX_GAS_CAP = 16_777_216n;

/**
 * Encoded output bytes of one output with a `plaintextBytes`-byte plaintext (see MAX_OUTPUTS_PER_REQUEST):
 * 5 words + ceil32(32 + plaintextBytes + 16).
 */
export function encodedOutputBytes(plaintextBytes: number): number {
  return 5 * 32 + Math.ceil((32 + plaintextBytes + 16) / 32) * 32;
}

/**
 * Light-client anchor signer meaning "trusted RPC": the enclave believes the headers its host brings (no signature
 * check; hash links and proofs are still checked). Deployments get it only with --insecure-trusted-rpc, for EVM
 * networks that have no Geode light client yet. It is part of the config hash and readable on-chain (`lcSigner()`),
 * and clients refuse such a deployment unless told to accept it (CLIENT_TRUSTED_RPC).
 */
export const TRUSTED_RPC_SIGNER = '0x0000000000000000000000000000000000000000' as const;
/** The signature a trusted-RPC header carries: 65 zero bytes (explicitly unsigned). */
export const UNSIGNED_HEADER_SIGNATURE = `0x${'00'.repeat(65)}` as const;
