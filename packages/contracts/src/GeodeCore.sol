// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IAttestationVerifier} from "./IAttestationVerifier.sol";
import {Utf8} from "./Utf8.sol";

/// @title GeodeCore
/// @notice The on-chain half of a Geode confidential application: deployment config, the enclave session
///         handshake (SessionCreate / SessionSetPubKey), the ordered request log with its hash accumulator, and
///         the commitments of processed batches signed by the active session's attested key.
/// @dev Applications inherit this contract. The first nine state variables are read by the enclave through
///      storage proofs: their order and slots are fixed by `SLOT` / `SESSION_FIELD` in the protocol package
///      (packages/protocol/src/constants.ts) and a test compares them with solc's storage layout. Do not add,
///      remove, reorder or pack variables above the `---- end of proven layout ----` marker. Every hash below
///      mirrors a function of packages/protocol/src/hash.ts byte for byte.
contract GeodeCore {
    /// @notice An enclave session: one attested instance's keys.
    /// @dev Five consecutive slots from keccak256(abi.encode(id, 8)); field order fixed by SESSION_FIELD.
    struct Session {
        /// Nonce the enclave drew for SessionCreate.
        bytes32 nonce;
        /// X25519 HPKE public key requests are encrypted to (RFC 7748 encoding), zero until activated.
        bytes32 encPubKey;
        /// Address of the secp256k1 key that signs batch commitments, zero until activated.
        address signer;
        /// STATUS_NONE, STATUS_PENDING, STATUS_ACTIVE or STATUS_SUPERSEDED.
        uint256 status;
        /// MRENCLAVE the session was created with.
        bytes32 mrEnclave;
    }

    /// @notice A rotation epoch of the request key (docs/protocol.md#rotation).
    struct Epoch {
        /// Sequence number of the rotation request that starts it (appended by requestRotation).
        uint256 requestSeq;
        /// X25519 HPKE public key of the epoch (zero until the batch ending with its rotation request is committed).
        bytes32 encPubKey;
        /// First sequence number that can have been sealed to it (requestSeq + 1; 0 until started).
        uint256 fromSeq;
    }

    /// @notice The fields of a batch commitment after (chainid, this), in commitmentDigest order.
    struct Commitment {
        uint256 sessionId;
        uint256 from;
        uint256 to;
        bytes32 accTo;
        bytes32 prevRoot;
        bytes32 newRoot;
        bytes32 outputsHash;
        bytes32 publicOutputsHash;
    }

    /// @notice A public output of a batch: plaintext bytes a handler published for the app contract to act on.
    struct PublicOutput {
        /// Sequence number of the request whose handler published it.
        uint256 seq;
        /// The app-defined bytes.
        bytes data;
    }

    // ---- proven layout (slots 0..7; see SLOT in packages/protocol/src/constants.ts) ----

    /// @notice Hash of the deployment configuration; the enclave attests to it at SessionCreate.
    bytes32 public configHash; // slot 0
    /// @notice Number of requests appended so far (the last sequence number; sequence numbers start at 1).
    uint256 public requestCount; // slot 1
    /// @notice acc(seq) for every seq in 1..requestCount (accAt[0] is never written: acc(0) = 0), where
    ///         acc(n) = keccak256(abi.encode(acc(n-1), n, sender, sessionId, keccak256(payload))) and sessionId is
    ///         activeSessionId when request n was appended (0 if none): the session the request was encrypted to.
    ///         The latest one, acc(requestCount), is `accumulator()`; it has no slot of its own (one storage write
    ///         less per request, docs/protocol.md#pipeline-cost).
    mapping(uint256 seq => bytes32 acc) public accAt; // slot 2
    /// @notice Last sequence number covered by a committed batch (0 before the first commitment).
    uint256 public committedSeq; // slot 3
    /// @notice Root of the application state after `committedSeq` (0 = empty state).
    bytes32 public stateRoot; // slot 4
    /// @notice Id of the active session (0 = none yet).
    uint256 public activeSessionId; // slot 5
    /// @notice Number of sessions created (the last session id; ids start at 1).
    uint256 public sessionCount; // slot 6
    /// @dev Sessions by id; read with `session(id)`.
    mapping(uint256 id => Session) internal sessions; // slot 7

    // ---- end of proven layout ----

    /// @dev Accepted measurements in deployment order (their packed concatenation is hashed into configHash).
    bytes32[] internal acceptedMeasurements;
    /// @dev Membership of acceptedMeasurements.
    mapping(bytes32 mrEnclave => bool) internal accepted;
    /// @notice Whether a SessionCreate nonce has been used (each nonce opens at most one session).
    mapping(bytes32 nonce => bool) public usedNonce;

    // ---- key handover (docs/protocol.md#handover); handoverRequests is proven by keyed enclaves (SLOT.handoverRequests) ----

    /// @notice handoverRequests[id]: the report data handover request `id` was attested with
    ///         (handoverRequestReportData; zero = no such request). A keyed enclave proves this slot before it seals its
    ///         keys to the request's handover key.
    mapping(uint256 id => bytes32 reportData) public handoverRequests; // slot 11
    /// @notice Number of handover requests (the last id; ids start at 1).
    uint256 public handoverCount; // slot 12

    // ---- rotation epochs (docs/protocol.md#rotation); not proven: the rotation requests are in the accumulator ----

    /// @dev epochs[e] for e in 1..rotationCount of the current key lineage; read with `epoch(e)` / `currentEpoch()`.
    mapping(uint256 epoch => Epoch) internal epochs; // slot 13
    /// @notice Number of rotations requested in the current key lineage (the last requested epoch).
    uint256 public rotationCount; // slot 14
    /// @notice The last epoch whose key is on-chain (0 = the session's own encPubKey).
    uint256 public startedEpoch; // slot 15

    // ---- backup (docs/protocol.md#backup); recoveryKey is proven by the exporting enclave (SLOT.recoveryKey) ----

    /// @notice X25519 public key (RFC 7748) a keyed enclave seals its key material to in a backup (zero = this
    ///         deployment has no recovery key and no backup). Set by the admin before the first session only, so it is
    ///         fixed before any key material exists: a client that sees it (or its absence) knows it cannot change.
    bytes32 public recoveryKey; // slot 16

    // ---- rotation schedule (docs/protocol.md#rotation-schedule); not proven: its rotation requests are in the log ----

    /// @notice Automatic rotation: the contract itself appends the admin's rotation request once this many requests
    ///         were appended since the last rotation request (or since the schedule was set); 0 = on demand only.
    uint256 public rotateEveryRequests; // slot 17
    /// @notice The sequence number the schedule counts from: the last rotation request's, or requestCount when the
    ///         schedule was set or a new key lineage started.
    uint256 public rotationScheduleFrom; // slot 18

    /// @notice Attestation verifier the handshake quotes are checked with.
    IAttestationVerifier public immutable verifier;
    /// @notice Light-client trust anchor: the devnet block-signer address (zero where not applicable).
    address public immutable lcSigner;
    /// @notice Light-client trust anchor: the genesis block hash.
    bytes32 public immutable lcGenesisHash;
    /// @notice keccak256 of the canonical JSON of the off-chain attestation policy (opaque here).
    bytes32 public immutable policyHash;
    /// @notice Chain id at deployment (hashed into configHash).
    uint256 public immutable deployChainId;
    /// @notice The deployment's admin (hashed into configHash): the only account that may open the first session or
    ///         a session whose keys do not continue the active one (see sessionSetPubKey).
    address public immutable admin;

    /// @notice Domain tag of configHash: keccak256("geode.config.v1").
    bytes32 public constant DOMAIN_CONFIG = keccak256("geode.config.v1");
    /// @notice Domain tag of the SessionCreate report data: keccak256("geode.session-create.v1").
    bytes32 public constant DOMAIN_SESSION_CREATE = keccak256("geode.session-create.v1");
    /// @notice Domain tag of the SessionSetPubKey report data: keccak256("geode.session-keys.v1").
    bytes32 public constant DOMAIN_SESSION_KEYS = keccak256("geode.session-keys.v1");
    /// @notice Domain tag of the batch commitment digest: keccak256("geode.commitment.v1").
    bytes32 public constant DOMAIN_COMMITMENT = keccak256("geode.commitment.v1");
    /// @notice Domain tag of a session succession signature: keccak256("geode.session-succession.v1").
    bytes32 public constant DOMAIN_SESSION_SUCCESSION = keccak256("geode.session-succession.v1");
    /// @notice Domain tag of a handover request's report data: keccak256("geode.handover-request.v1").
    bytes32 public constant DOMAIN_HANDOVER_REQUEST = keccak256("geode.handover-request.v1");
    /// @notice Domain tag of a commitment that starts an epoch: keccak256("geode.epoch-commitment.v1").
    bytes32 public constant DOMAIN_EPOCH_COMMITMENT = keccak256("geode.epoch-commitment.v1");

    /// @notice Session status: no such session.
    uint256 public constant STATUS_NONE = 0;
    /// @notice Session status: created, waiting for SessionSetPubKey.
    uint256 public constant STATUS_PENDING = 1;
    /// @notice Session status: the active session.
    uint256 public constant STATUS_ACTIVE = 2;
    /// @notice Session status: was active, replaced by a later session.
    uint256 public constant STATUS_SUPERSEDED = 3;

    /// @notice First payload byte of an HPKE-sealed request: 0x01 || enc(32) || ciphertext.
    bytes1 public constant PAYLOAD_PRIVATE = 0x01;
    /// @notice First payload byte of a public request: 0x02 || abi.encode(string kind, bytes body).
    bytes1 public constant PAYLOAD_PUBLIC = 0x02;
    /// @notice First payload byte of an epoch-tagged private request: 0x03 || epoch (uint32) || enc(32) || ciphertext.
    bytes1 public constant PAYLOAD_PRIVATE_EPOCH = 0x03;
    /// @notice Smallest epoch-tagged private payload: kind byte, 4-byte epoch, 32-byte HPKE enc and a 16-byte AEAD tag.
    uint256 public constant MIN_PRIVATE_EPOCH_PAYLOAD_BYTES = 53;
    /// @notice Largest request payload, in bytes.
    uint256 public constant MAX_PAYLOAD_BYTES = 16384;
    /// @notice Smallest private payload: kind byte, 32-byte HPKE enc and a 16-byte AEAD tag.
    uint256 public constant MIN_PRIVATE_PAYLOAD_BYTES = 49;
    /// @notice Gas each public-output hook call gets (protocol PUBLIC_OUTPUT_HOOK_GAS).
    uint256 public constant PUBLIC_OUTPUT_HOOK_GAS = 100_000;
    /// @notice Shortest automatic rotation interval, in requests: each rotation ends a batch, so a shorter one would
    ///         make batches of a few requests.
    uint256 public constant MIN_ROTATION_INTERVAL = 8;
    /// @dev Gas kept back for the self-call around a hook (call, calldata copy, event) when checking gasleft().
    uint256 internal constant HOOK_CALL_OVERHEAD_GAS = 20_000;
    /// @notice secp256k1 n / 2: commitment signatures with s above it are rejected (EIP-2).
    uint256 internal constant SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice A session was opened by an attested enclave.
    /// @param sessionId The new session id.
    /// @param nonce The enclave's nonce.
    /// @param mrEnclave The attested measurement.
    /// @param quote The SessionCreate quote.
    event SessionCreated(uint256 indexed sessionId, bytes32 indexed nonce, bytes32 indexed mrEnclave, bytes quote);
    /// @notice A pending session received its keys and became the active session.
    /// @param sessionId The activated session id.
    /// @param encPubKey X25519 HPKE public key for requests.
    /// @param signer Address of the commitment signing key.
    /// @param quote The SessionSetPubKey quote.
    event SessionActivated(uint256 indexed sessionId, bytes32 encPubKey, address indexed signer, bytes quote);
    /// @notice The previously active session was replaced.
    /// @param sessionId The superseded session.
    /// @param bySessionId The session that replaced it.
    event SessionSuperseded(uint256 indexed sessionId, uint256 indexed bySessionId);
    /// @notice An attested instance asked for the session keys (docs/protocol.md#handover).
    /// @param id The handover request id.
    /// @param mrEnclave The newcomer's attested measurement (an accepted one).
    /// @param handoverPubKey X25519 public key the key material is to be sealed to.
    /// @param quote The newcomer's quote (REPORTDATA = handoverRequestReportData(mrEnclave, handoverPubKey) || 0^32).
    event HandoverRequested(uint256 indexed id, bytes32 indexed mrEnclave, bytes32 handoverPubKey, bytes quote);
    /// @notice The admin asked for a rotation of the request key (docs/protocol.md#rotation).
    /// @param epoch The epoch the rotation starts.
    /// @param seq Sequence number of the rotation request.
    event RotationRequested(uint256 indexed epoch, uint256 indexed seq);
    /// @notice The admin set the automatic rotation schedule (0 = off), counting from request `fromSeq`.
    event RotationScheduleSet(uint256 everyRequests, uint256 fromSeq);
    /// @notice An epoch's key is on-chain: the batch ending with its rotation request was committed.
    /// @param epoch The new epoch.
    /// @param encPubKey Its X25519 HPKE public key (clients encrypt to it from now on).
    /// @param fromSeq First sequence number that can have been sealed to it.
    event EpochStarted(uint256 indexed epoch, bytes32 encPubKey, uint256 fromSeq);
    /// @notice The admin named the deployment's recovery key (docs/protocol.md#backup).
    /// @param key X25519 public key backups are sealed to.
    event RecoveryKeySet(bytes32 key);
    /// @notice A request was appended to the log.
    /// @param seq Its sequence number.
    /// @param sender The account it is attributed to (hashed into the accumulator).
    /// @param sessionId The active session when it was submitted (0 if none).
    /// @param payload 0x01 || enc || ciphertext (private) or 0x02 || abi.encode(kind, body) (public).
    event RequestSubmitted(uint256 indexed seq, address indexed sender, uint256 indexed sessionId, bytes payload);
    /// @notice A batch of requests [from, to] was committed.
    /// @param sessionId The session whose key signed the commitment.
    /// @param from First sequence number of the batch.
    /// @param to Last sequence number of the batch.
    /// @param accTo acc(to).
    /// @param prevRoot State root before the batch.
    /// @param newRoot State root after the batch.
    /// @param outputsHash keccak256(outputs).
    /// @param outputs abi.encode((address recipient, uint256 seq, bytes ciphertext)[]).
    event BatchCommitted(
        uint256 indexed sessionId,
        uint256 indexed from,
        uint256 indexed to,
        bytes32 accTo,
        bytes32 prevRoot,
        bytes32 newRoot,
        bytes32 outputsHash,
        bytes outputs
    );

    /// @notice A public output was handed to the app's hook (after its batch was committed).
    /// @param seq Sequence number of the request whose handler published it.
    /// @param index Position of the output in the batch's publicOutputs.
    /// @param ok False when the hook reverted or ran out of its PUBLIC_OUTPUT_HOOK_GAS (its effects were dropped).
    /// @param data The public output's bytes.
    event PublicOutputDelivered(uint256 indexed seq, uint256 index, bool ok, bytes data);

    /// @notice The constructor got no measurements.
    error NoMeasurements();
    /// @notice A measurement appears twice in the constructor list.
    error DuplicateMeasurement(bytes32 mrEnclave);
    /// @notice The verifier address has no code.
    error VerifierNotContract(address verifier);
    /// @notice The quote's measurement is not in the accepted list.
    error MeasurementNotAccepted(bytes32 mrEnclave);
    /// @notice The quote's report data does not bind what it must (chain, contract, config/nonce/keys).
    error ReportDataMismatch(bytes32 expectedLo, bytes32 reportDataLo, bytes32 reportDataHi);
    /// @notice The SessionCreate nonce was already used.
    error NonceAlreadyUsed(bytes32 nonce);
    /// @notice The session is not pending (status given).
    error SessionNotPending(uint256 sessionId, uint256 status);
    /// @notice The session is older than the active one and can no longer be activated.
    error StaleSession(uint256 sessionId, uint256 activeSessionId);
    /// @notice SessionSetPubKey's quote comes from a different measurement than SessionCreate's.
    error MeasurementMismatch(bytes32 expected, bytes32 actual);
    /// @notice The commitment signer address is zero.
    error ZeroSigner();
    /// @notice The admin address is zero.
    error ZeroAdmin();
    /// @notice The session's keys do not continue the active session's, and the caller is not the admin.
    error NotAdmin(address caller, address admin);
    /// @notice New keys may take over only while every request is committed (committedSeq == requestCount).
    error RequestsPending(uint256 committedSeq, uint256 requestCount);
    /// @notice There is no active session.
    error NoActiveSession();
    /// @notice The handover public key is zero.
    error ZeroHandoverKey();
    /// @notice The recovery key can be set only before the first session is created (sessionCount == 0).
    error RecoveryKeyFixed(uint256 sessionCount);
    /// @notice An automatic rotation schedule must be 0 (off) or at least MIN_ROTATION_INTERVAL requests.
    error RotationIntervalTooShort(uint256 everyRequests, uint256 min);
    /// @notice The recovery key is zero.
    error ZeroRecoveryKey();
    /// @notice The payload length is outside [min, max].
    error InvalidPayloadLength(uint256 length, uint256 min, uint256 max);
    /// @notice The payload's first byte is not the kind this entry point accepts.
    error InvalidPayloadKind(bytes1 kind);
    /// @notice The HPKE output key is zero.
    error ZeroOutputKey();
    /// @notice A public request kind is not well-formed UTF-8 (the enclave would refuse it; see Utf8.sol).
    error KindNotUtf8(bytes kind);
    /// @notice `from` is not committedSeq + 1.
    error UnexpectedBatchStart(uint256 expected, uint256 from);
    /// @notice `to` is before `from` or after requestCount.
    error BatchOutOfRange(uint256 from, uint256 to, uint256 requestCount);
    /// @notice accTo is not acc(to).
    error AccumulatorMismatch(bytes32 expected, bytes32 accTo);
    /// @notice prevRoot is not the committed state root.
    error StaleStateRoot(bytes32 expected, bytes32 prevRoot);
    /// @notice The commitment signature is not 65 bytes r || s || v.
    error InvalidSignatureLength(uint256 length);
    /// @notice The commitment signature has s > n/2 (malleable) or v not in {0, 1, 27, 28}.
    error MalformedSignature();
    /// @notice commitBatch was sent with too little gas left to give a public-output hook its full stipend.
    error HookGasTooLow(uint256 gasLeft);
    /// @notice deliverPublicOutput may be called only by the contract itself.
    error OnlySelf(address caller);
    /// @notice The batch ends with a rotation request: commit it with commitBatchWithEpoch (it carries the new key).
    error EpochKeyMissing(uint256 epoch, uint256 requestSeq);
    /// @notice commitBatchWithEpoch for a batch that does not end with the next epoch's rotation request.
    error NoRotationInBatch(uint256 epoch, uint256 requestSeq, uint256 to);
    /// @notice The new epoch's public key is zero.
    error ZeroEpochKey();
    /// @notice Public request kinds beginning with "geode." are the framework's (registerOutputKey, requestRotation).
    error ReservedKind(bytes kind);
    /// @notice The commitment was not signed by the active session's signer.
    error WrongSigner(address recovered, address expected);

    /// @notice Deploys the core with its configuration and computes configHash.
    /// @param measurements_ Accepted MRENCLAVE values (non-empty, distinct; order is part of configHash).
    /// @param verifier_ Attestation verifier contract.
    /// @param lcSigner_ Light-client block-signer address.
    /// @param lcGenesisHash_ Light-client genesis block hash.
    /// @param policyHash_ keccak256 of the canonical attestation policy JSON.
    /// @param admin_ The deployment's admin (non-zero): opens the first session and re-keys (see sessionSetPubKey).
    constructor(
        bytes32[] memory measurements_,
        address verifier_,
        address lcSigner_,
        bytes32 lcGenesisHash_,
        bytes32 policyHash_,
        address admin_
    ) {
        if (measurements_.length == 0) revert NoMeasurements();
        if (admin_ == address(0)) revert ZeroAdmin();
        if (verifier_.code.length == 0) revert VerifierNotContract(verifier_);
        for (uint256 i = 0; i < measurements_.length; ++i) {
            bytes32 m = measurements_[i];
            if (accepted[m]) revert DuplicateMeasurement(m);
            accepted[m] = true;
            acceptedMeasurements.push(m);
        }
        verifier = IAttestationVerifier(verifier_);
        lcSigner = lcSigner_;
        lcGenesisHash = lcGenesisHash_;
        policyHash = policyHash_;
        admin = admin_;
        deployChainId = block.chainid;
        configHash = keccak256(
            abi.encode(
                DOMAIN_CONFIG,
                block.chainid,
                address(this),
                keccak256(abi.encodePacked(measurements_)),
                verifier_,
                lcSigner_,
                lcGenesisHash_,
                policyHash_,
                admin_
            )
        );
    }

    // ------------------------------------------------------------------ handshake

    /// @notice SessionCreate: opens a pending session for an attested enclave.
    /// @dev The quote's REPORTDATA must be sessionCreateReportData(nonce) || 32 zero bytes.
    /// @param quote Attestation checked by `verifier`.
    /// @param nonce The enclave's fresh nonce (each nonce once).
    /// @return id The new session id.
    function sessionCreate(bytes calldata quote, bytes32 nonce) external returns (uint256 id) {
        if (usedNonce[nonce]) revert NonceAlreadyUsed(nonce);
        (bytes32 mrEnclave, bytes32 lo, bytes32 hi) = verifier.verifyQuote(quote);
        if (!accepted[mrEnclave]) revert MeasurementNotAccepted(mrEnclave);
        bytes32 expected = sessionCreateReportData(nonce);
        if (lo != expected || hi != bytes32(0)) revert ReportDataMismatch(expected, lo, hi);
        usedNonce[nonce] = true;
        id = ++sessionCount;
        sessions[id] =
            Session({nonce: nonce, encPubKey: bytes32(0), signer: address(0), status: STATUS_PENDING, mrEnclave: mrEnclave});
        emit SessionCreated(id, nonce, mrEnclave, quote);
    }

    /// @notice SessionSetPubKey: activates a pending session with its keys; the previous active session is superseded.
    /// @dev The quote's REPORTDATA must be sessionKeysReportData(nonce, encPubKey, signer) || 32 zero bytes and its
    ///      measurement that of SessionCreate. Sessions older than the active one cannot be activated.
    ///      Succession (who may activate): keys equal to the active session's (same encPubKey and signer: a restarted
    ///      instance re-handshaking) may be activated by anyone. Any other keys (the first session included) only by
    ///      `admin`, and, once a session is active, only while committedSeq == requestCount, so no request the old
    ///      keys may already have processed can be processed again under other keys (one outcome per batch).
    /// @param id A pending session id.
    /// @param quote Attestation checked by `verifier`.
    /// @param encPubKey X25519 HPKE public key for requests.
    /// @param signer Address of the secp256k1 key that will sign commitments (non-zero).
    function sessionSetPubKey(uint256 id, bytes calldata quote, bytes32 encPubKey, address signer) external {
        uint256 prev = _checkKeysQuote(id, quote, encPubKey, signer);
        _checkSuccession(prev, encPubKey, signer);
        _activate(id, prev, encPubKey, signer, quote);
    }

    /// @notice SessionSetPubKey for keys that descend from the active session's by its signer's consent: anyone may
    ///         call it with the active signer's signature over sessionSuccessionDigest(id, encPubKey, signer).
    /// @dev Same quote checks as sessionSetPubKey; then the signature must recover to the active session's signer
    ///      (WrongSigner otherwise, NoActiveSession without one) and committedSeq == requestCount (RequestsPending):
    ///      until a key handover carries the state to the new keys (issue 10), other keys may never re-draw a batch.
    /// @param id A pending session id.
    /// @param quote Attestation checked by `verifier`.
    /// @param encPubKey X25519 HPKE public key for requests.
    /// @param signer Address of the secp256k1 key that will sign commitments (non-zero).
    /// @param successionSignature 65 bytes r || s || v (low s) by the active signer, raw digest (no EIP-191 prefix).
    function sessionSetPubKeyBySuccession(
        uint256 id,
        bytes calldata quote,
        bytes32 encPubKey,
        address signer,
        bytes calldata successionSignature
    ) external {
        uint256 prev = _checkKeysQuote(id, quote, encPubKey, signer);
        if (prev == 0) revert NoActiveSession();
        _checkSigner(prev, sessionSuccessionDigest(id, encPubKey, signer), successionSignature);
        if (committedSeq != requestCount) revert RequestsPending(committedSeq, requestCount);
        _activate(id, prev, encPubKey, signer, quote);
    }

    /// @dev The checks of a keys quote for pending session `id`; returns the active session id.
    function _checkKeysQuote(uint256 id, bytes calldata quote, bytes32 encPubKey, address signer) private returns (uint256 prev) {
        Session storage s = sessions[id];
        if (s.status != STATUS_PENDING) revert SessionNotPending(id, s.status);
        prev = activeSessionId;
        if (id < prev) revert StaleSession(id, prev);
        if (signer == address(0)) revert ZeroSigner();
        (bytes32 mrEnclave, bytes32 lo, bytes32 hi) = verifier.verifyQuote(quote);
        if (mrEnclave != s.mrEnclave) revert MeasurementMismatch(s.mrEnclave, mrEnclave);
        bytes32 expected = sessionKeysReportData(s.nonce, encPubKey, signer);
        if (lo != expected || hi != bytes32(0)) revert ReportDataMismatch(expected, lo, hi);
    }

    /// @dev Makes pending session `id` the active one with its keys, superseding `prev`.
    function _activate(uint256 id, uint256 prev, bytes32 encPubKey, address signer, bytes calldata quote) private {
        Session storage s = sessions[id];
        // Keys that do not continue the active session's start their own epochs at 0 (docs/protocol.md#rotation).
        if (prev == 0 || sessions[prev].encPubKey != encPubKey || sessions[prev].signer != signer) {
            rotationCount = 0;
            startedEpoch = 0;
            rotationScheduleFrom = requestCount;
        }
        if (prev != 0) {
            sessions[prev].status = STATUS_SUPERSEDED;
            emit SessionSuperseded(prev, id);
        }
        s.encPubKey = encPubKey;
        s.signer = signer;
        s.status = STATUS_ACTIVE;
        activeSessionId = id;
        emit SessionActivated(id, encPubKey, signer, quote);
    }

    /// @dev Reverts unless the caller may activate (encPubKey, signer) after active session `prev` (see sessionSetPubKey).
    function _checkSuccession(uint256 prev, bytes32 encPubKey, address signer) private view {
        if (prev != 0 && sessions[prev].encPubKey == encPubKey && sessions[prev].signer == signer) return;
        if (msg.sender != admin) revert NotAdmin(msg.sender, admin);
        // With no active session no batch was ever processed; requests appended before (public ones) are all pending.
        if (prev != 0 && committedSeq != requestCount) revert RequestsPending(committedSeq, requestCount);
    }

    // ------------------------------------------------------------------ key handover

    /// @notice Records an attested instance's request for the session keys (docs/protocol.md#handover). Anyone may call
    ///         it: the quote must verify through `verifier`, carry an accepted measurement (a handover to another
    ///         measurement is a code upgrade the config names) and bind this chain, contract, config, its own
    ///         measurement and `handoverPubKey`. Nothing changes for the session: a keyed enclave that proves this
    ///         record and checks the quote itself seals its keys to `handoverPubKey`.
    /// @param quote Attestation checked by `verifier`; REPORTDATA = handoverRequestReportData(mrEnclave, handoverPubKey) || 0^32.
    /// @param handoverPubKey X25519 public key (RFC 7748 encoding), non-zero, that only the attested instance holds.
    /// @return id The handover request id.
    function requestHandover(bytes calldata quote, bytes32 handoverPubKey) external returns (uint256 id) {
        if (handoverPubKey == bytes32(0)) revert ZeroHandoverKey();
        (bytes32 mrEnclave, bytes32 lo, bytes32 hi) = verifier.verifyQuote(quote);
        if (!accepted[mrEnclave]) revert MeasurementNotAccepted(mrEnclave);
        bytes32 expected = handoverRequestReportData(mrEnclave, handoverPubKey);
        if (lo != expected || hi != bytes32(0)) revert ReportDataMismatch(expected, lo, hi);
        id = ++handoverCount;
        handoverRequests[id] = expected;
        emit HandoverRequested(id, mrEnclave, handoverPubKey, quote);
    }

    /// @notice REPORTDATA[0..32) of a handover request: keccak256(abi.encode(DOMAIN_HANDOVER_REQUEST, chainid, this,
    ///         configHash, mrEnclave, handoverPubKey)).
    function handoverRequestReportData(bytes32 mrEnclave, bytes32 handoverPubKey) public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_HANDOVER_REQUEST, block.chainid, address(this), configHash, mrEnclave, handoverPubKey));
    }

    // ------------------------------------------------------------------ backup

    /// @notice Names the deployment's recovery key (docs/protocol.md#backup): the X25519 public key a keyed enclave
    ///         seals its key material to when asked for a backup. Admin only, and only before the first session is
    ///         created, so the key is fixed before any key material exists. Not calling it means no backup is possible.
    /// @param key X25519 public key (RFC 7748 encoding), non-zero.
    function setRecoveryKey(bytes32 key) external {
        if (msg.sender != admin) revert NotAdmin(msg.sender, admin);
        if (sessionCount != 0) revert RecoveryKeyFixed(sessionCount);
        if (key == bytes32(0)) revert ZeroRecoveryKey();
        recoveryKey = key;
        emit RecoveryKeySet(key);
    }

    // ------------------------------------------------------------------ requests

    /// @notice Submits a private (HPKE-sealed) request; the sender is msg.sender.
    /// @param payload 0x01 || enc (32 bytes) || ciphertext (epoch 0), 49..MAX_PAYLOAD_BYTES bytes; or
    ///        0x03 || epoch (uint32 big-endian) || enc || ciphertext (docs/protocol.md#rotation), 53..MAX_PAYLOAD_BYTES.
    /// @return seq The request's sequence number.
    function submitRequest(bytes calldata payload) external returns (uint256 seq) {
        if (activeSessionId == 0) revert NoActiveSession();
        if (payload.length == 0) revert InvalidPayloadLength(0, MIN_PRIVATE_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES);
        uint256 min = MIN_PRIVATE_PAYLOAD_BYTES;
        if (payload[0] == PAYLOAD_PRIVATE_EPOCH) min = MIN_PRIVATE_EPOCH_PAYLOAD_BYTES;
        else if (payload[0] != PAYLOAD_PRIVATE) revert InvalidPayloadKind(payload[0]);
        if (payload.length < min || payload.length > MAX_PAYLOAD_BYTES) {
            revert InvalidPayloadLength(payload.length, min, MAX_PAYLOAD_BYTES);
        }
        return _appendRequest(msg.sender, payload);
    }

    /// @notice Asks the enclave to rotate the request key (docs/protocol.md#rotation); only the admin. Appends the
    ///         public request 0x02 || abi.encode("geode.rotate-epoch", abi.encode(epoch)) from the admin, in the
    ///         ordered log (the accumulator binds it: the host can neither skip, repeat nor invent one). The enclave
    ///         that processes it ends the batch there and signs the new epoch's key into the commitment
    ///         (commitBatchWithEpoch), which records it (EpochStarted).
    /// @return epoch The epoch the rotation starts (rotationCount after the call).
    /// @return seq The rotation request's sequence number.
    function requestRotation() external returns (uint256 epoch, uint256 seq) {
        if (msg.sender != admin) revert NotAdmin(msg.sender, admin);
        if (activeSessionId == 0) revert NoActiveSession();
        return _rotate();
    }

    /// @notice Sets the automatic rotation schedule (docs/protocol.md#rotation-schedule); only the admin. From now on,
    ///         once `everyRequests` requests were appended since the last rotation request (or since this call), the
    ///         contract appends the admin's rotation request itself, right after the request that reached the count,
    ///         exactly as requestRotation would. 0 turns it off (rotation on demand only).
    /// @param everyRequests 0, or at least MIN_ROTATION_INTERVAL.
    function setRotationSchedule(uint256 everyRequests) external {
        if (msg.sender != admin) revert NotAdmin(msg.sender, admin);
        if (everyRequests != 0 && everyRequests < MIN_ROTATION_INTERVAL) revert RotationIntervalTooShort(everyRequests, MIN_ROTATION_INTERVAL);
        rotateEveryRequests = everyRequests;
        rotationScheduleFrom = requestCount;
        emit RotationScheduleSet(everyRequests, requestCount);
    }

    /// @dev Appends the admin's rotation request for the next epoch (requestRotation, or the schedule) and restarts the
    ///      schedule's count at it (set before the append, so the append does not trigger the schedule again).
    function _rotate() private returns (uint256 epoch, uint256 seq) {
        epoch = ++rotationCount;
        rotationScheduleFrom = requestCount + 1;
        seq = _appendRequest(admin, bytes.concat(PAYLOAD_PUBLIC, abi.encode("geode.rotate-epoch", abi.encode(epoch))));
        epochs[epoch].requestSeq = seq;
        emit RotationRequested(epoch, seq);
    }

    /// @notice Registers the caller's X25519 HPKE public key, to which the enclave encrypts the caller's outputs.
    /// @dev Appends the public request 0x02 || abi.encode("geode.register-key", abi.encode(hpkePubKey)).
    /// @param hpkePubKey X25519 public key (RFC 7748 encoding), non-zero.
    /// @return seq The request's sequence number.
    function registerOutputKey(bytes32 hpkePubKey) external returns (uint256 seq) {
        if (hpkePubKey == bytes32(0)) revert ZeroOutputKey();
        return _appendRequest(msg.sender, bytes.concat(PAYLOAD_PUBLIC, abi.encode("geode.register-key", abi.encode(hpkePubKey))));
    }

    /// @notice Appends 0x02 || abi.encode(kind, body) as a request from `sender`.
    /// @dev Reverts KindNotUtf8 unless `kind` is well-formed UTF-8: the enclave decodes it strictly and would
    ///      refuse it (names are bytes, docs/protocol.md#strings).
    /// @param sender Account the request is attributed to.
    /// @param kind Public request kind, e.g. "computations.create".
    /// @param body Kind-specific ABI-encoded body.
    /// @return seq The request's sequence number.
    function _appendPublicRequest(address sender, string memory kind, bytes memory body) internal returns (uint256 seq) {
        if (!Utf8.isValid(bytes(kind))) revert KindNotUtf8(bytes(kind));
        if (_isFrameworkKind(bytes(kind))) revert ReservedKind(bytes(kind));
        return _appendRequest(sender, bytes.concat(PAYLOAD_PUBLIC, abi.encode(kind, body)));
    }

    /// @dev Whether `kind` begins with "geode." (the framework's kinds, which an app may not append).
    function _isFrameworkKind(bytes memory kind) private pure returns (bool) {
        bytes memory p = "geode.";
        if (kind.length < p.length) return false;
        for (uint256 i = 0; i < p.length; ++i) if (kind[i] != p[i]) return false;
        return true;
    }

    /// @notice Appends a request to the log and extends the accumulator.
    /// @dev The active session id enters the accumulator: it names the key and HPKE additional data a private request
    ///      was sealed to, so the enclave uses it only as proven (it changes the outcome of a request).
    /// @param sender Account the request is attributed to.
    /// @param payload The request payload (its keccak256 enters the accumulator).
    /// @return seq The request's sequence number.
    function _appendRequest(address sender, bytes memory payload) internal returns (uint256 seq) {
        seq = ++requestCount;
        uint256 sid = activeSessionId;
        bytes32 acc = keccak256(abi.encode(accAt[seq - 1], seq, sender, sid, keccak256(payload)));
        accAt[seq] = acc;
        emit RequestSubmitted(seq, sender, sid, payload);
        // The rotation schedule (docs/protocol.md#rotation-schedule): the count reached, the admin's rotation follows.
        uint256 every = rotateEveryRequests;
        if (every != 0 && sid != 0 && seq - rotationScheduleFrom >= every) _rotate();
    }

    // ------------------------------------------------------------------ commitments

    /// @notice Commits the result of processing requests [from, to], signed by the active session's key, then hands
    ///         each public output to the app's hook `_onPublicOutput` (see _deliverPublicOutputs).
    /// @param from committedSeq + 1.
    /// @param to Last request of the batch, at most requestCount.
    /// @param accTo acc(to).
    /// @param prevRoot The committed state root the batch was processed from.
    /// @param newRoot The state root after the batch.
    /// @param outputs abi.encode((address recipient, uint256 seq, bytes ciphertext)[]); only hashed and emitted.
    /// @param publicOutputs abi.encode((uint256 seq, bytes data)[]): the enclave's plaintext public outputs, in order.
    /// @param signature 65 bytes r || s || v (v 27/28 or 0/1, low s) over commitmentDigest, no EIP-191 prefix.
    function commitBatch(
        uint256 from,
        uint256 to,
        bytes32 accTo,
        bytes32 prevRoot,
        bytes32 newRoot,
        bytes calldata outputs,
        bytes calldata publicOutputs,
        bytes calldata signature
    ) external {
        Commitment memory c = _checkBatch(from, to, accTo, prevRoot, newRoot);
        uint256 next = startedEpoch + 1;
        if (next <= rotationCount && epochs[next].requestSeq <= to) revert EpochKeyMissing(next, epochs[next].requestSeq);
        c.outputsHash = keccak256(outputs);
        c.publicOutputsHash = keccak256(publicOutputs);
        _checkSigner(c.sessionId, _commitmentDigest(c), signature);
        _finishBatch(c, outputs, publicOutputs);
    }

    /// @notice commitBatch for a batch that ends with the next epoch's rotation request (docs/protocol.md#rotation):
    ///         the signature is over epochCommitmentDigest(commitmentDigest, epoch, epochPubKey), so the new key is the
    ///         enclave's, and the contract records epochs[epoch] = {encPubKey, fromSeq = to + 1} (EpochStarted).
    /// @param from committedSeq + 1.
    /// @param to The rotation request's sequence number (epochs[startedEpoch + 1].requestSeq).
    /// @param accTo acc(to).
    /// @param prevRoot The committed state root the batch was processed from.
    /// @param newRoot The state root after the batch.
    /// @param outputs abi.encode((address recipient, uint256 seq, bytes ciphertext)[]); only hashed and emitted.
    /// @param publicOutputs abi.encode((uint256 seq, bytes data)[]).
    /// @param epochPubKey The new epoch's X25519 HPKE public key (non-zero).
    /// @param signature 65 bytes r || s || v over epochCommitmentDigest, no EIP-191 prefix.
    function commitBatchWithEpoch(
        uint256 from,
        uint256 to,
        bytes32 accTo,
        bytes32 prevRoot,
        bytes32 newRoot,
        bytes calldata outputs,
        bytes calldata publicOutputs,
        bytes32 epochPubKey,
        bytes calldata signature
    ) external {
        Commitment memory c = _checkBatch(from, to, accTo, prevRoot, newRoot);
        uint256 e = startedEpoch + 1;
        if (e > rotationCount || epochs[e].requestSeq != to) revert NoRotationInBatch(e, epochs[e].requestSeq, to);
        if (epochPubKey == bytes32(0)) revert ZeroEpochKey();
        c.outputsHash = keccak256(outputs);
        c.publicOutputsHash = keccak256(publicOutputs);
        _checkSigner(c.sessionId, epochCommitmentDigest(_commitmentDigest(c), e, epochPubKey), signature);
        epochs[e].encPubKey = epochPubKey;
        epochs[e].fromSeq = to + 1;
        startedEpoch = e;
        emit EpochStarted(e, epochPubKey, to + 1);
        _finishBatch(c, outputs, publicOutputs);
    }

    /// @dev The position checks of a commitment; returns it with sessionId, from, to, accTo and the roots filled.
    function _checkBatch(uint256 from, uint256 to, bytes32 accTo, bytes32 prevRoot, bytes32 newRoot) private view returns (Commitment memory c) {
        // Fields are filled one by one into memory: the legacy codegen's 16-slot stack cannot hold them all at once.
        c.sessionId = activeSessionId;
        if (c.sessionId == 0) revert NoActiveSession();
        if (from != committedSeq + 1) revert UnexpectedBatchStart(committedSeq + 1, from);
        if (to < from || to > requestCount) revert BatchOutOfRange(from, to, requestCount);
        if (accAt[to] != accTo) revert AccumulatorMismatch(accAt[to], accTo);
        if (prevRoot != stateRoot) revert StaleStateRoot(stateRoot, prevRoot);
        c.from = from;
        c.to = to;
        c.accTo = accTo;
        c.prevRoot = prevRoot;
        c.newRoot = newRoot;
    }

    /// @dev Records a checked, signed commitment and delivers its public outputs.
    function _finishBatch(Commitment memory c, bytes calldata outputs, bytes calldata publicOutputs) private {
        committedSeq = c.to;
        stateRoot = c.newRoot;
        _emitBatchCommitted(c, outputs);
        _deliverPublicOutputs(publicOutputs);
    }

    /// @dev Emits BatchCommitted (a separate frame keeps commitBatch within the legacy codegen's stack limit).
    function _emitBatchCommitted(Commitment memory c, bytes calldata outputs) private {
        emit BatchCommitted(c.sessionId, c.from, c.to, c.accTo, c.prevRoot, c.newRoot, c.outputsHash, outputs);
    }

    /// @dev Calls the hook once per public output, in order, after the batch is committed (docs/protocol.md#public-outputs).
    ///      Each call is an external self-call (`deliverPublicOutput`) with exactly PUBLIC_OUTPUT_HOOK_GAS gas: a hook
    ///      that reverts or runs out of gas is recorded (PublicOutputDelivered with ok = false) and never undoes the
    ///      commitment, so no output can halt the deployment. The caller cannot starve a hook to make it fail (EIP-150
    ///      forwards at most 63/64 of the gas left): without enough gas for the full stipend the whole commitBatch
    ///      reverts (HookGasTooLow) and can be sent again with more gas.
    function _deliverPublicOutputs(bytes calldata publicOutputs) private {
        PublicOutput[] memory list = abi.decode(publicOutputs, (PublicOutput[]));
        for (uint256 i = 0; i < list.length; ++i) {
            if (gasleft() < (PUBLIC_OUTPUT_HOOK_GAS * 64) / 63 + HOOK_CALL_OVERHEAD_GAS) revert HookGasTooLow(gasleft());
            bool ok;
            try this.deliverPublicOutput{gas: PUBLIC_OUTPUT_HOOK_GAS}(list[i].seq, list[i].data) {
                ok = true;
            } catch {
                ok = false;
            }
            emit PublicOutputDelivered(list[i].seq, i, ok, list[i].data);
        }
    }

    /// @notice Entry point of the public-output hook; callable only by this contract itself (from commitBatch).
    /// @param seq Sequence number of the request whose handler published `data`.
    /// @param data The public output's bytes.
    function deliverPublicOutput(uint256 seq, bytes calldata data) external {
        if (msg.sender != address(this)) revert OnlySelf(msg.sender);
        _onPublicOutput(seq, data);
    }

    /// @notice The app's hook: act on what the enclave decided (pay a withdrawal, settle an auction, record a result).
    /// @dev Runs with PUBLIC_OUTPUT_HOOK_GAS gas; a revert is recorded and drops only this hook's effects. Prefer
    ///      recording a credit the user pulls over sending value to an address (a recipient could refuse it).
    ///      Default: ignore. `data` is exactly what the handler published (the app defines its encoding).
    /// @param seq Sequence number of the request whose handler published `data`.
    /// @param data The public output's bytes.
    function _onPublicOutput(uint256 seq, bytes calldata data) internal virtual {}

    /// @dev Reverts WrongSigner unless `signature` over `digest` recovers to session `sid`'s signer.
    function _checkSigner(uint256 sid, bytes32 digest, bytes calldata signature) private view {
        address expected = sessions[sid].signer;
        address recovered = _recover(digest, signature);
        if (recovered != expected) revert WrongSigner(recovered, expected);
    }

    /// @dev ecrecover of a raw digest with a 65-byte r || s || v signature; rejects high s (EIP-2) and bad v.
    ///      Returns address(0) when ecrecover fails (never equal to a session signer, which is non-zero).
    function _recover(bytes32 digest, bytes calldata signature) internal pure returns (address) {
        if (signature.length != 65) revert InvalidSignatureLength(signature.length);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        if (uint256(s) > SECP256K1_HALF_N || (v != 27 && v != 28)) revert MalformedSignature();
        return ecrecover(digest, v, r, s);
    }

    // ------------------------------------------------------------------ protocol hashes (mirror packages/protocol/src/hash.ts)

    /// @notice REPORTDATA[0..32) of the SessionCreate quote for `nonce` on this chain and contract:
    ///         keccak256(abi.encode(DOMAIN_SESSION_CREATE, chainid, this, configHash, nonce)).
    function sessionCreateReportData(bytes32 nonce) public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_SESSION_CREATE, block.chainid, address(this), configHash, nonce));
    }

    /// @notice REPORTDATA[0..32) of the SessionSetPubKey quote:
    ///         keccak256(abi.encode(DOMAIN_SESSION_KEYS, chainid, this, nonce, encPubKey, signer)).
    function sessionKeysReportData(bytes32 nonce, bytes32 encPubKey, address signer) public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_SESSION_KEYS, block.chainid, address(this), nonce, encPubKey, signer));
    }

    /// @notice The digest the active session's signer signs to hand over to a new session's keys:
    ///         keccak256(abi.encode(DOMAIN_SESSION_SUCCESSION, chainid, this, newSessionId, encPubKey, signer)).
    function sessionSuccessionDigest(uint256 newSessionId, bytes32 encPubKey, address signer) public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_SESSION_SUCCESSION, block.chainid, address(this), newSessionId, encPubKey, signer));
    }

    /// @notice The digest a session signs for a batch: keccak256(abi.encode(DOMAIN_COMMITMENT, chainid, this,
    ///         sessionId, from, to, accTo, prevRoot, newRoot, outputsHash, publicOutputsHash)).
    function commitmentDigest(
        uint256 sessionId,
        uint256 from,
        uint256 to,
        bytes32 accTo,
        bytes32 prevRoot,
        bytes32 newRoot,
        bytes32 outputsHash,
        bytes32 publicOutputsHash
    ) public view returns (bytes32) {
        return _commitmentDigest(
            Commitment(sessionId, from, to, accTo, prevRoot, newRoot, outputsHash, publicOutputsHash)
        );
    }

    /// @notice The digest signed for a batch ending with a rotation request:
    ///         keccak256(abi.encode(DOMAIN_EPOCH_COMMITMENT, commitmentDigest, epoch, encPubKey)).
    function epochCommitmentDigest(bytes32 commitment, uint256 epoch, bytes32 encPubKey) public pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_EPOCH_COMMITMENT, commitment, epoch, encPubKey));
    }

    /// @dev commitmentDigest of `c` (all fields static: abi.encode of the struct is that of its fields in order).
    function _commitmentDigest(Commitment memory c) internal view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_COMMITMENT, block.chainid, address(this), c));
    }

    // ------------------------------------------------------------------ views

    /// @notice The accepted measurements, in deployment order.
    function measurements() external view returns (bytes32[] memory) {
        return acceptedMeasurements;
    }

    /// @notice acc(requestCount): the accumulator over the whole log (0 before the first request), see accAt.
    function accumulator() external view returns (bytes32) {
        return accAt[requestCount];
    }

    /// @notice Whether `mrEnclave` is an accepted measurement.
    function isAcceptedMeasurement(bytes32 mrEnclave) external view returns (bool) {
        return accepted[mrEnclave];
    }

    /// @notice Session `id` (all-zero with status STATUS_NONE if it does not exist).
    function session(uint256 id) external view returns (Session memory) {
        return sessions[id];
    }

    /// @notice The epoch clients encrypt requests to and its key (docs/protocol.md#rotation): (0, the active session's
    ///         encPubKey) until a rotation has started, then (startedEpoch, epochs[startedEpoch].encPubKey).
    function currentEpoch() external view returns (uint256 epochNumber, bytes32 encPubKey) {
        epochNumber = startedEpoch;
        encPubKey = epochNumber == 0 ? sessions[activeSessionId].encPubKey : epochs[epochNumber].encPubKey;
    }

    /// @notice Rotation epoch `e` of the current key lineage (all zero if never requested).
    function epochAt(uint256 e) external view returns (Epoch memory) {
        return epochs[e];
    }

    /// @notice The active session and its id (id 0 and an empty session if none).
    function activeSession() external view returns (uint256 id, Session memory s) {
        id = activeSessionId;
        s = sessions[id];
    }
}
