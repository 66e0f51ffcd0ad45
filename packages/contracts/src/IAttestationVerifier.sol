// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title IAttestationVerifier
/// @notice On-chain verifier of a TEE attestation (quote/report/document) used by GeodeCore's session handshake.
/// @dev Implementations revert (with a custom error) on any quote they do not accept; they never return a
///      partially verified result.
interface IAttestationVerifier {
    /// @notice Verifies `quote` and returns the enclave identity and the 64 bytes of report data it attests to.
    /// @param quote The raw attestation bytes (for SGX: a DCAP quote v3, Intel "SGX ECDSA Quote Library API" App. A).
    /// @return mrEnclave The enclave measurement (SGX MRENCLAVE, 32 bytes).
    /// @return reportDataLo REPORTDATA[0..32).
    /// @return reportDataHi REPORTDATA[32..64).
    function verifyQuote(bytes calldata quote)
        external
        view
        returns (bytes32 mrEnclave, bytes32 reportDataLo, bytes32 reportDataHi);
}
