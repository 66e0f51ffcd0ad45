// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title DcapQuote
/// @notice Offsets of the parts of an Intel DCAP quote in calldata: SGX quote v3 ("Intel SGX ECDSA Quote Library
///         API", App. A.3) and TDX quote v4/v5 ("Intel TDX DCAP Quoting Library API", A.3 / A.4), ECDSA P-256,
///         certification data type 5 (v3) or type 6 wrapping type 5 (v4, v5). All integers little-endian.
/// @dev Mirrors packages/attestation/src/dcap/quote.ts check for check: {QuoteMalformed} where it throws
///      ATTEST_DECODE, {UnsupportedQuote} where it throws ATTEST_UNSUPPORTED_VERSION. Parsing verifies nothing.
library DcapQuote {
    /// @notice The quote is truncated or a length field is inconsistent at byte `offset` (ATTEST_DECODE).
    error QuoteMalformed(uint256 offset);
    /// @notice Version, key type, TEE type, body type or certification data type not supported
    ///         (ATTEST_UNSUPPORTED_VERSION); `value` is the offending field value.
    error UnsupportedQuote(uint256 field, uint256 value);

    uint256 internal constant FIELD_VERSION = 0;
    uint256 internal constant FIELD_KEY_TYPE = 1;
    uint256 internal constant FIELD_TEE_TYPE = 2;
    uint256 internal constant FIELD_BODY_TYPE = 3;
    uint256 internal constant FIELD_CERT_TYPE = 4;

    uint32 internal constant TEE_SGX = 0;
    uint32 internal constant TEE_TDX = 0x81;
    uint256 internal constant SGX_REPORT_LEN = 384;
    uint256 internal constant TD10_LEN = 584;
    uint256 internal constant TD15_LEN = 648;

    /// @notice Offsets (into the quote) of every part the verifier reads.
    struct Layout {
        uint16 version;
        uint32 teeType;
        uint256 bodyStart;
        uint256 bodyLen;
        uint256 signedEnd; // header || (descriptor ||) body
        uint256 signature; // 64 bytes r || s
        uint256 attKey; // 64 bytes x || y
        uint256 qeReport; // 384 bytes
        uint256 qeReportSig; // 64 bytes
        uint256 qeAuth;
        uint256 qeAuthLen;
        uint256 certType; // inner certification data type
        uint256 certData;
        uint256 certDataLen;
    }

    function u16(bytes calldata q, uint256 o) internal pure returns (uint256) {
        return uint256(uint8(q[o])) | (uint256(uint8(q[o + 1])) << 8);
    }

    function u32(bytes calldata q, uint256 o) internal pure returns (uint256) {
        return uint256(uint8(q[o])) | (uint256(uint8(q[o + 1])) << 8) | (uint256(uint8(q[o + 2])) << 16)
            | (uint256(uint8(q[o + 3])) << 24);
    }

    function _need(uint256 off, uint256 n, uint256 end) private pure {
        if (off + n > end) revert QuoteMalformed(off);
    }

    /// @notice Parses `q`; reverts {QuoteMalformed} / {UnsupportedQuote} like quote.ts.
    function parse(bytes calldata q) internal pure returns (Layout memory l) {
        uint256 len = q.length;
        _need(0, 48, len);
        l.version = uint16(u16(q, 0));
        uint256 keyType = u16(q, 2);
        l.teeType = uint32(u32(q, 4));
        if (l.version != 3 && l.version != 4 && l.version != 5) revert UnsupportedQuote(FIELD_VERSION, l.version);
        if (keyType != 2) revert UnsupportedQuote(FIELD_KEY_TYPE, keyType);
        if (l.teeType != TEE_SGX && l.teeType != TEE_TDX) revert UnsupportedQuote(FIELD_TEE_TYPE, l.teeType);
        if (l.version == 3 && l.teeType != TEE_SGX) revert UnsupportedQuote(FIELD_TEE_TYPE, l.teeType);
        uint256 p = 48;
        if (l.version == 5) {
            _need(p, 6, len);
            uint256 bodyType = u16(q, p);
            uint256 size = u32(q, p + 2);
            uint256 expected = bodyType == 1 ? SGX_REPORT_LEN : bodyType == 2 ? TD10_LEN : bodyType == 3 ? TD15_LEN : 0;
            if (expected == 0) revert UnsupportedQuote(FIELD_BODY_TYPE, bodyType);
            if ((bodyType == 1) != (l.teeType == TEE_SGX)) revert QuoteMalformed(p);
            if (size != expected) revert QuoteMalformed(p + 2);
            p += 6;
            l.bodyLen = size;
        } else {
            l.bodyLen = l.teeType == TEE_SGX ? SGX_REPORT_LEN : TD10_LEN;
        }
        _need(p, l.bodyLen, len);
        l.bodyStart = p;
        p += l.bodyLen;
        l.signedEnd = p;
        _need(p, 4, len);
        uint256 sigLen = u32(q, p);
        p += 4;
        _need(p, sigLen, len);
        uint256 sigEnd = p + sigLen;
        _need(p, 128, sigEnd);
        l.signature = p;
        l.attKey = p + 64;
        p += 128;
        if (l.version == 3) {
            p = _qePart(q, p, sigEnd, l);
        } else {
            _need(p, 6, sigEnd);
            uint256 outerType = u16(q, p);
            uint256 outerSize = u32(q, p + 2);
            _certType(outerType, 6, 6, p);
            p += 6;
            _need(p, outerSize, sigEnd);
            uint256 innerEnd = p + outerSize;
            p = _qePart(q, p, innerEnd, l);
            if (p != innerEnd) revert QuoteMalformed(p);
        }
        if (p != sigEnd) revert QuoteMalformed(p);
    }

    /// @dev QE report, its signature, QE auth data and the (inner) certification data, ending before `end`.
    function _qePart(bytes calldata q, uint256 p, uint256 end, Layout memory l) private pure returns (uint256) {
        _need(p, SGX_REPORT_LEN + 64 + 2, end);
        l.qeReport = p;
        l.qeReportSig = p + SGX_REPORT_LEN;
        p += SGX_REPORT_LEN + 64;
        l.qeAuthLen = u16(q, p);
        p += 2;
        _need(p, l.qeAuthLen, end);
        l.qeAuth = p;
        p += l.qeAuthLen;
        _need(p, 6, end);
        l.certType = u16(q, p);
        uint256 size = u32(q, p + 2);
        _certType(l.certType, 1, 5, p);
        p += 6;
        _need(p, size, end);
        l.certData = p;
        l.certDataLen = size;
        return p + size;
    }

    /// @dev Types 1..7 exist: outside [lo, hi] they are unsupported; any other value is garbage.
    function _certType(uint256 t, uint256 lo, uint256 hi, uint256 offset) private pure {
        if (t >= lo && t <= hi) return;
        if (t >= 1 && t <= 7) revert UnsupportedQuote(FIELD_CERT_TYPE, t);
        revert QuoteMalformed(offset);
    }
}
