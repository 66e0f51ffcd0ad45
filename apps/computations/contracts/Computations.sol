// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {GeodeCore} from "@geode/contracts/GeodeCore.sol";
import {Utf8} from "@geode/contracts/Utf8.sol";

/// @title Computations
/// @notice Geode's first application, after R3 Conclave's EventManager sample: named multi-party computations
///         (average, max, min, key matcher) over private submissions, with a participant list and a quorum.
///         Creation is public and on-chain; submissions are private requests (GeodeCore.submitRequest) that the
///         enclave decrypts, checks against the computation and aggregates.
/// @dev createComputation appends the public request
///      0x02 || abi.encode("computations.create", abi.encode(string name, uint8 ctype, address[] participants, uint256 quorum))
///      attributed to the creator, so the enclave learns computations in chain order with everything else.
contract Computations is GeodeCore {
    /// @notice A computation as created.
    struct Computation {
        /// Unique name, 1..64 bytes of well-formed UTF-8 (keyed by its exact bytes; a leading U+FEFF is part of it).
        string name;
        /// CTYPE_AVERAGE, CTYPE_MAX, CTYPE_MIN or CTYPE_KEY_MATCHER.
        uint8 ctype;
        /// Distinct, non-zero participants, in creation order.
        address[] participants;
        /// Submissions needed before results are released (1..participants.length).
        uint256 quorum;
        /// The account that created it (need not be a participant).
        address creator;
        /// Sequence number of its creation request.
        uint256 seq;
    }

    /// @notice Computation type: average of the submitted values.
    uint8 public constant CTYPE_AVERAGE = 0;
    /// @notice Computation type: identity of the highest submitter.
    uint8 public constant CTYPE_MAX = 1;
    /// @notice Computation type: identity of the lowest submitter.
    uint8 public constant CTYPE_MIN = 2;
    /// @notice Computation type: key matcher (participants are told when a key reaches quorum).
    uint8 public constant CTYPE_KEY_MATCHER = 3;
    /// @notice Longest computation name, in bytes.
    uint256 public constant MAX_NAME_BYTES = 64;
    /// @notice Most participants in one computation.
    uint256 public constant MAX_PARTICIPANTS = 256;

    /// @dev Computations by keccak256(bytes(name)).
    mapping(bytes32 nameHash => Computation) internal computations;
    /// @dev Names in creation order.
    string[] internal names;

    /// @notice A computation was created.
    /// @param nameHash keccak256(bytes(name)), indexed for filtering.
    /// @param name The computation's name.
    /// @param ctype Its type.
    /// @param participants Its participants.
    /// @param quorum Its quorum.
    /// @param creator Who created it.
    /// @param seq Sequence number of the creation request.
    event ComputationCreated(
        bytes32 indexed nameHash,
        string name,
        uint8 ctype,
        address[] participants,
        uint256 quorum,
        address indexed creator,
        uint256 indexed seq
    );

    /// @notice A computation with this name already exists.
    error ComputationExists(string name);
    /// @notice No computation has this name.
    error UnknownComputation(string name);
    /// @notice The name is empty or longer than MAX_NAME_BYTES bytes.
    error InvalidComputationName(uint256 length);
    /// @notice The name is not well-formed UTF-8 (RFC 3629); the enclave would refuse it.
    error ComputationNameNotUtf8(bytes name);
    /// @notice The type is not one of the CTYPE_* values.
    error InvalidComputationType(uint8 ctype);
    /// @notice Fewer than 2 or more than MAX_PARTICIPANTS participants.
    error InvalidParticipantCount(uint256 count);
    /// @notice A participant is the zero address.
    error ZeroParticipant();
    /// @notice A participant appears twice.
    error DuplicateParticipant(address participant);
    /// @notice The quorum is 0 or larger than the number of participants.
    error InvalidQuorum(uint256 quorum, uint256 participants);

    /// @notice Deploys the application; parameters are GeodeCore's.
    /// @param measurements_ Accepted MRENCLAVE values.
    /// @param verifier_ Attestation verifier contract.
    /// @param lcSigner_ Light-client block-signer address.
    /// @param lcGenesisHash_ Light-client genesis block hash.
    /// @param policyHash_ keccak256 of the canonical attestation policy JSON.
    constructor(
        bytes32[] memory measurements_,
        address verifier_,
        address lcSigner_,
        bytes32 lcGenesisHash_,
        bytes32 policyHash_
    ) GeodeCore(measurements_, verifier_, lcSigner_, lcGenesisHash_, policyHash_) {}

    /// @notice Creates a computation and appends its public creation request (sender = msg.sender).
    /// @param name Unique name, 1..64 bytes of well-formed UTF-8 (Utf8.isValid), compared byte for byte.
    /// @param ctype 0 average, 1 max, 2 min, 3 key matcher.
    /// @param participants 2..256 distinct non-zero addresses.
    /// @param quorum 1..participants.length.
    /// @return seq Sequence number of the creation request.
    function createComputation(string calldata name, uint8 ctype, address[] calldata participants, uint256 quorum)
        external
        returns (uint256 seq)
    {
        uint256 nameLen = bytes(name).length;
        if (nameLen == 0 || nameLen > MAX_NAME_BYTES) revert InvalidComputationName(nameLen);
        // Names are bytes: refuse here every name the enclave's strict decoder would refuse.
        if (!Utf8.isValid(bytes(name))) revert ComputationNameNotUtf8(bytes(name));
        bytes32 nameHash = keccak256(bytes(name));
        Computation storage c = computations[nameHash];
        if (bytes(c.name).length != 0) revert ComputationExists(name);
        if (ctype > CTYPE_KEY_MATCHER) revert InvalidComputationType(ctype);
        uint256 n = participants.length;
        if (n < 2 || n > MAX_PARTICIPANTS) revert InvalidParticipantCount(n);
        if (quorum == 0 || quorum > n) revert InvalidQuorum(quorum, n);
        _checkParticipants(participants);

        seq = _appendPublicRequest(msg.sender, "computations.create", abi.encode(name, ctype, participants, quorum));
        c.name = name;
        c.ctype = ctype;
        c.participants = participants;
        c.quorum = quorum;
        c.creator = msg.sender;
        c.seq = seq;
        names.push(name);
        emit ComputationCreated(nameHash, name, ctype, participants, quorum, msg.sender, seq);
    }

    /// @dev Reverts ZeroParticipant / DuplicateParticipant. O(n) expected: a linear-probing hash set in memory with
    ///      at least 2n slots, indexed by the address's low bits (colliding addresses only cost their own creator gas).
    function _checkParticipants(address[] calldata participants) private pure {
        uint256 n = participants.length;
        uint256 size = 4;
        while (size < 2 * n) size <<= 1;
        uint256 mask = size - 1;
        address[] memory table = new address[](size);
        for (uint256 i = 0; i < n; ++i) {
            address p = participants[i];
            if (p == address(0)) revert ZeroParticipant();
            uint256 h = uint160(p) & mask;
            while (true) {
                address q = table[h];
                if (q == address(0)) break;
                if (q == p) revert DuplicateParticipant(p);
                h = (h + 1) & mask;
            }
            table[h] = p;
        }
    }

    /// @notice The computation named `name`; reverts UnknownComputation if there is none.
    function computation(string calldata name) external view returns (Computation memory) {
        Computation storage c = computations[keccak256(bytes(name))];
        if (bytes(c.name).length == 0) revert UnknownComputation(name);
        return c;
    }

    /// @notice Number of computations created.
    function computationCount() external view returns (uint256) {
        return names.length;
    }

    /// @notice Names of computations [offset, offset + limit) in creation order (clamped to the end).
    function computationNames(uint256 offset, uint256 limit) external view returns (string[] memory out) {
        uint256 total = names.length;
        if (offset >= total) return new string[](0);
        uint256 end = limit > total - offset ? total : offset + limit;
        out = new string[](end - offset);
        for (uint256 i = offset; i < end; ++i) out[i - offset] = names[i];
    }
}
