// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title IAttestationVerifier
/// @notice On-chain verifier of a TEE attestation (quote/report/document) used by GeodeCore's session handshake.
/// @dev Implementations revert (with a custom error) on any quote they do not accept; they never return a
///      partially verified result. Not `view`: a verifier may cache what it verified once (DcapQuoteVerifier caches a
///      platform's PCK certificate chain); a stateless verifier (SimQuoteVerifier) implements it as `view`.
interface IAttestationVerifier {
    /// @notice Verifies `quote` and returns the enclave identity and the 64 bytes of report data it attests to.
    /// @param quote The raw attestation bytes (for SGX: a DCAP quote v3, Intel "SGX ECDSA Quote Library API" App. A;
    ///        for TDX: a quote v4/v5, "Intel TDX DCAP Quoting Library API" App. A).
    /// @return mrEnclave The enclave measurement: SGX MRENCLAVE; TDX sha256(MRTD || RTMR0 || RTMR1 || RTMR2 || RTMR3).
    /// @return reportDataLo REPORTDATA[0..32).
    /// @return reportDataHi REPORTDATA[32..64).
    function verifyQuote(bytes calldata quote)
        external
        returns (bytes32 mrEnclave, bytes32 reportDataLo, bytes32 reportDataHi);
}
