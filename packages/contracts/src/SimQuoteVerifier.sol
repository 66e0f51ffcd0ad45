// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IAttestationVerifier} from "./IAttestationVerifier.sol";

/// @title SimQuoteVerifier
/// @notice Verifies Intel SGX DCAP v3 quotes produced by Geode's simulation TEE (`--tee sim`): checks the quote's
///         ECDSA P-256 signature under one configured simulation attestation key with the EIP-7951 P256VERIFY
///         precompile (address 0x100, Osaka).
/// @dev Layout (Intel "SGX ECDSA Quote Library API", Appendix A; all integers little-endian):
///      [0,48) header: u16 version at 0 (=3), u16 attestation key type at 2 (=2, ECDSA-256 P-256);
///      [48,432) ISV report body: MRENCLAVE at 112 (32 bytes), REPORTDATA at 368 (64 bytes);
///      u32 signature data length at 432; quote signature r||s at 436 (64 bytes, big-endian) over
///      SHA-256(quote[0,432)); attestation public key x||y at 500 (64 bytes, big-endian).
///      The QE report and PCK certificate chain that follow are not checked: trusting the configured key is the
///      whole trust decision in simulation mode. DCAP signatures are not low-s normalised, so high-s is accepted.
contract SimQuoteVerifier is IAttestationVerifier {
    /// @notice EIP-7951 P256VERIFY precompile address.
    address public constant P256_VERIFY = address(0x100);
    /// @notice Quote version this verifier accepts.
    uint16 public constant QUOTE_VERSION = 3;
    /// @notice Attestation key type this verifier accepts (2 = ECDSA-256-with-P-256).
    uint16 public constant ATT_KEY_TYPE_ECDSA_P256 = 2;
    /// @notice Smallest quote this verifier accepts: up to the end of the attestation public key.
    uint256 public constant MIN_QUOTE_LENGTH = 564;

    uint256 private constant SIGNED_LEN = 432;
    uint256 private constant SIG_DATA_LEN_OFFSET = 432;
    uint256 private constant SIGNATURE_OFFSET = 436;
    uint256 private constant ATT_KEY_OFFSET = 500;
    uint256 private constant MR_ENCLAVE_OFFSET = 112;
    uint256 private constant REPORT_DATA_OFFSET = 368;

    /// @notice X coordinate (big-endian) of the trusted simulation attestation key (P-256).
    bytes32 public immutable attKeyX;
    /// @notice Y coordinate (big-endian) of the trusted simulation attestation key (P-256).
    bytes32 public immutable attKeyY;

    /// @notice The configured attestation key is the zero point.
    error ZeroAttestationKey();
    /// @notice The quote is shorter than `minimum` bytes.
    error QuoteTooShort(uint256 length, uint256 minimum);
    /// @notice The quote header's version (u16 LE at 0) is not 3.
    error UnsupportedQuoteVersion(uint16 version);
    /// @notice The quote header's attestation key type (u16 LE at 2) is not 2 (ECDSA P-256).
    error UnsupportedAttestationKeyType(uint16 keyType);
    /// @notice The signature data length (u32 LE at 432) is too small or runs past the end of the quote.
    error MalformedSignatureData(uint256 signatureDataLength, uint256 quoteLength);
    /// @notice The quote's attestation key (x, y) is not the configured simulation key.
    error UntrustedAttestationKey(bytes32 x, bytes32 y);
    /// @notice The quote signature does not verify over SHA-256(header || report body).
    error InvalidQuoteSignature();

    /// @param x Big-endian X coordinate of the simulation attestation public key.
    /// @param y Big-endian Y coordinate of the simulation attestation public key.
    constructor(bytes32 x, bytes32 y) {
        if (x == bytes32(0) && y == bytes32(0)) revert ZeroAttestationKey();
        attKeyX = x;
        attKeyY = y;
    }

    /// @inheritdoc IAttestationVerifier
    function verifyQuote(bytes calldata quote)
        external
        view
        override
        returns (bytes32 mrEnclave, bytes32 reportDataLo, bytes32 reportDataHi)
    {
        if (quote.length < MIN_QUOTE_LENGTH) revert QuoteTooShort(quote.length, MIN_QUOTE_LENGTH);
        uint16 version = uint16(uint8(quote[0])) | (uint16(uint8(quote[1])) << 8);
        if (version != QUOTE_VERSION) revert UnsupportedQuoteVersion(version);
        uint16 keyType = uint16(uint8(quote[2])) | (uint16(uint8(quote[3])) << 8);
        if (keyType != ATT_KEY_TYPE_ECDSA_P256) revert UnsupportedAttestationKeyType(keyType);
        uint256 sigDataLen = uint256(uint8(quote[SIG_DATA_LEN_OFFSET]))
            | (uint256(uint8(quote[SIG_DATA_LEN_OFFSET + 1])) << 8)
            | (uint256(uint8(quote[SIG_DATA_LEN_OFFSET + 2])) << 16)
            | (uint256(uint8(quote[SIG_DATA_LEN_OFFSET + 3])) << 24);
        if (sigDataLen < MIN_QUOTE_LENGTH - SIGNATURE_OFFSET || SIGNATURE_OFFSET + sigDataLen > quote.length) {
            revert MalformedSignatureData(sigDataLen, quote.length);
        }

        bytes32 x = bytes32(quote[ATT_KEY_OFFSET:ATT_KEY_OFFSET + 32]);
        bytes32 y = bytes32(quote[ATT_KEY_OFFSET + 32:ATT_KEY_OFFSET + 64]);
        if (x != attKeyX || y != attKeyY) revert UntrustedAttestationKey(x, y);

        bytes32 digest = sha256(quote[0:SIGNED_LEN]);
        (bool ok, bytes memory out) = P256_VERIFY.staticcall(
            abi.encode(
                digest,
                bytes32(quote[SIGNATURE_OFFSET:SIGNATURE_OFFSET + 32]),
                bytes32(quote[SIGNATURE_OFFSET + 32:SIGNATURE_OFFSET + 64]),
                x,
                y
            )
        );
        // EIP-7951: 32-byte 1 on success, empty output on failure (and empty if the precompile is absent).
        if (!ok || out.length != 32 || abi.decode(out, (uint256)) != 1) revert InvalidQuoteSignature();

        mrEnclave = bytes32(quote[MR_ENCLAVE_OFFSET:MR_ENCLAVE_OFFSET + 32]);
        reportDataLo = bytes32(quote[REPORT_DATA_OFFSET:REPORT_DATA_OFFSET + 32]);
        reportDataHi = bytes32(quote[REPORT_DATA_OFFSET + 32:REPORT_DATA_OFFSET + 64]);
    }
}
