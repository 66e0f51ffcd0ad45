// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {DerReader as D} from "./DerReader.sol";
import {P256} from "./P256.sol";

/// @title X509
/// @notice Parsing of the X.509 objects of Intel's SGX PKI (RFC 5280): certificates with ECDSA P-256 keys signed
///         with ecdsa-with-SHA256, CRLs, and the Intel SGX extension of PCK certificates ("Intel SGX PCK Certificate
///         and Certificate Revocation List Profile Specification" 1.5, OID 1.2.840.113741.1.13.1).
/// @dev Only what verification needs is extracted; every field read is bounds-checked and every structural surprise
///      reverts with {DerReader.DerMalformed} or {UnsupportedKey}. Names are compared as keccak256 of their DER.
library X509 {
    /// @notice A certificate's key is not a P-256 id-ecPublicKey, or its signature is not ecdsa-with-SHA256.
    error UnsupportedKey();
    /// @notice A PCK certificate has no (or a malformed) Intel SGX extension.
    error PckExtensionInvalid();

    /// @notice Fields of a parsed certificate; `tbsStart/tbsEnd` delimit the signed TBSCertificate TLV.
    struct Cert {
        uint256 tbsStart;
        uint256 tbsEnd;
        bytes32 serialHash;
        bytes32 issuerHash;
        bytes32 subjectHash;
        uint64 notBefore;
        uint64 notAfter;
        bytes32 keyX;
        bytes32 keyY;
        bytes32 sigR;
        bytes32 sigS;
        bool isCa;
        uint256 extStart;
        uint256 extEnd;
    }

    /// @notice Fields of a parsed CRL; revoked entries are in `[revokedStart, revokedEnd)` (a SEQUENCE OF content).
    struct Crl {
        uint256 tbsStart;
        uint256 tbsEnd;
        bytes32 issuerHash;
        uint64 thisUpdate;
        uint64 nextUpdate;
        uint256 revokedStart;
        uint256 revokedEnd;
        bytes32 sigR;
        bytes32 sigS;
    }

    /// @notice The PCK values the TCB evaluation needs.
    struct Pck {
        bytes16 sgxComponents; // 16 SGX TCB component SVNs, one byte each (OIDs ...13.1.2.1 - .2.16)
        uint16 pceSvn; // ...13.1.2.17
        bytes2 pceId; // ...13.1.3
        bytes6 fmspc; // ...13.1.4
    }

    // AlgorithmIdentifier content of ecdsa-with-SHA256 (OID 1.2.840.10045.4.3.2): 06 08 2A8648CE3D040302.
    bytes32 private constant ECDSA_SHA256_ALG = hex"06082a8648ce3d040302";
    // AlgorithmIdentifier content of id-ecPublicKey + prime256v1: 06 07 2A8648CE3D0201 06 08 2A8648CE3D030107.
    bytes32 private constant P256_KEY_ALG = hex"06072a8648ce3d020106082a8648ce3d030107";
    // OID content of basicConstraints (2.5.29.19).
    bytes32 private constant BASIC_CONSTRAINTS = hex"551d13";
    // OID content prefix of the Intel SGX extension 1.2.840.113741.1.13.1.
    bytes32 private constant SGX_EXT = hex"2a864886f84d010d01";

    /// @notice Parses DER certificate `der` (the whole buffer).
    function parseCert(bytes memory der) internal pure returns (Cert memory c) {
        (uint256 cs, uint256 ce) = D.expect(der, 0, der.length, 0x30);
        if (ce != der.length) revert D.DerMalformed(ce);
        (uint256 ts, uint256 te) = D.expect(der, cs, ce, 0x30);
        c.tbsStart = cs;
        c.tbsEnd = te;
        uint256 p = ts;
        if (D.tagAt(der, p, te) == 0xa0) (, , p) = D.node(der, p, te); // [0] version
        uint256 s;
        uint256 e;
        (s, e) = D.expect(der, p, te, 0x02); // serialNumber
        c.serialHash = D.keccakRange(der, s, e);
        (, p) = D.expect(der, e, te, 0x30); // signature AlgorithmIdentifier
        (, e) = D.expect(der, p, te, 0x30); // issuer
        c.issuerHash = D.keccakRange(der, p, e);
        (s, p) = D.expect(der, e, te, 0x30); // validity
        (c.notBefore, s) = D.time(der, s, p);
        (c.notAfter, s) = D.time(der, s, p);
        (, e) = D.expect(der, p, te, 0x30); // subject
        c.subjectHash = D.keccakRange(der, p, e);
        p = e;
        (s, e) = D.expect(der, p, te, 0x30); // subjectPublicKeyInfo
        p = e;
        _readKey(der, s, e, c);
        while (p < te) {
            uint256 tag;
            (tag, s, e) = D.node(der, p, te);
            if (tag == 0xa3) {
                (c.extStart, c.extEnd) = D.expect(der, s, e, 0x30);
                c.isCa = _basicConstraintsCa(der, c.extStart, c.extEnd);
            }
            p = e;
        }
        (s, e) = D.expect(der, te, ce, 0x30); // signatureAlgorithm
        if (!D.eqShort(der, s, e, ECDSA_SHA256_ALG, 10)) revert UnsupportedKey();
        (c.sigR, c.sigS) = _ecdsaSig(der, e, ce);
    }

    /// @notice True when `c` (parsed from `der`) carries a valid signature by the P-256 key (x, y).
    function signedBy(bytes memory der, Cert memory c, bytes32 x, bytes32 y) internal view returns (bool) {
        return P256.verify(P256.sha256Range(der, c.tbsStart, c.tbsEnd), c.sigR, c.sigS, x, y);
    }

    /// @notice Parses DER CRL `der` (RFC 5280 5.1; version, signature, issuer, thisUpdate, nextUpdate required,
    ///         revokedCertificates optional).
    function parseCrl(bytes memory der) internal pure returns (Crl memory c) {
        (uint256 cs, uint256 ce) = D.expect(der, 0, der.length, 0x30);
        if (ce != der.length) revert D.DerMalformed(ce);
        (uint256 ts, uint256 te) = D.expect(der, cs, ce, 0x30);
        c.tbsStart = cs;
        c.tbsEnd = te;
        uint256 p = ts;
        uint256 e;
        if (D.tagAt(der, p, te) == 0x02) (, , p) = D.node(der, p, te); // version
        (, p) = D.expect(der, p, te, 0x30); // signature AlgorithmIdentifier
        (, e) = D.expect(der, p, te, 0x30); // issuer
        c.issuerHash = D.keccakRange(der, p, e);
        (c.thisUpdate, p) = D.time(der, e, te);
        uint256 tag = D.tagAt(der, p, te);
        if (tag != 0x17 && tag != 0x18) revert D.DerMalformed(p); // nextUpdate is required here
        (c.nextUpdate, p) = D.time(der, p, te);
        if (D.tagAt(der, p, te) == 0x30) (c.revokedStart, c.revokedEnd) = D.expect(der, p, te, 0x30);
        uint256 s;
        (s, e) = D.expect(der, te, ce, 0x30);
        if (!D.eqShort(der, s, e, ECDSA_SHA256_ALG, 10)) revert UnsupportedKey();
        (c.sigR, c.sigS) = _ecdsaSig(der, e, ce);
    }

    /// @notice The next revoked serial (keccak256 of the INTEGER content) at `p` of a CRL's revoked list, and the
    ///         position of the following entry.
    function nextRevoked(bytes memory der, uint256 p, uint256 end) internal pure returns (bytes32 serialHash, uint256 next) {
        (uint256 s, uint256 e) = D.expect(der, p, end, 0x30);
        (uint256 is_, uint256 ie) = D.expect(der, s, e, 0x02);
        serialHash = D.keccakRange(der, is_, ie);
        next = e;
    }

    /// @notice The Intel SGX extension of PCK certificate `c`: exactly one extension with OID 1.2.840.113741.1.13.1.
    function pckExtension(bytes memory der, Cert memory c) internal pure returns (Pck memory pck) {
        uint256 found;
        uint256 p = c.extStart;
        while (p < c.extEnd) {
            (uint256 s, uint256 e) = D.expect(der, p, c.extEnd, 0x30);
            (uint256 os, uint256 oe) = D.expect(der, s, e, 0x06);
            if (D.eqShort(der, os, oe, SGX_EXT, 9)) {
                ++found;
                uint256 q = oe;
                if (D.tagAt(der, q, e) == 0x01) (, , q) = D.node(der, q, e); // critical
                (uint256 vs, uint256 ve) = D.expect(der, q, e, 0x04);
                pck = _sgxExtension(der, vs, ve);
            }
            p = e;
        }
        if (found != 1) revert PckExtensionInvalid();
    }

    // ------------------------------------------------------------------ internals

    function _readKey(bytes memory der, uint256 s, uint256 e, Cert memory c) private pure {
        (uint256 as_, uint256 ae) = D.expect(der, s, e, 0x30);
        if (!D.eqShort(der, as_, ae, P256_KEY_ALG, 19)) revert UnsupportedKey();
        (uint256 ks, uint256 ke) = D.expect(der, ae, e, 0x03);
        if (ke - ks != 66 || D.u8(der, ks) != 0 || D.u8(der, ks + 1) != 4) revert UnsupportedKey();
        bytes32 x;
        bytes32 y;
        assembly ("memory-safe") {
            let base := add(add(der, 32), add(ks, 2))
            x := mload(base)
            y := mload(add(base, 32))
        }
        c.keyX = x;
        c.keyY = y;
    }

    function _basicConstraintsCa(bytes memory der, uint256 p, uint256 end) private pure returns (bool) {
        while (p < end) {
            (uint256 s, uint256 e) = D.expect(der, p, end, 0x30);
            (uint256 os, uint256 oe) = D.expect(der, s, e, 0x06);
            if (D.eqShort(der, os, oe, BASIC_CONSTRAINTS, 3)) {
                uint256 q = oe;
                if (D.tagAt(der, q, e) == 0x01) (, , q) = D.node(der, q, e);
                (uint256 vs, uint256 ve) = D.expect(der, q, e, 0x04);
                (uint256 bs, uint256 be) = D.expect(der, vs, ve, 0x30);
                if (D.tagAt(der, bs, be) != 0x01) return false;
                (uint256 cs, uint256 ce) = D.expect(der, bs, be, 0x01);
                return ce - cs == 1 && D.u8(der, cs) != 0;
            }
            p = e;
        }
        return false;
    }

    /// @dev BIT STRING { 0x00, SEQUENCE { INTEGER r, INTEGER s } } at `p` to 32-byte r, s.
    function _ecdsaSig(bytes memory der, uint256 p, uint256 end) private pure returns (bytes32 r, bytes32 s) {
        (uint256 bs, uint256 be) = D.expect(der, p, end, 0x03);
        if (be != end || be - bs < 2 || D.u8(der, bs) != 0) revert D.DerMalformed(p);
        (uint256 ss, uint256 se) = D.expect(der, bs + 1, be, 0x30);
        (uint256 rs, uint256 re) = D.expect(der, ss, se, 0x02);
        r = bytes32(D.uintValue(der, rs, re));
        (uint256 s2, uint256 s2e) = D.expect(der, re, se, 0x02);
        s = bytes32(D.uintValue(der, s2, s2e));
    }

    function _sgxExtension(bytes memory der, uint256 vs, uint256 ve) private pure returns (Pck memory pck) {
        (uint256 s, uint256 e) = D.expect(der, vs, ve, 0x30);
        uint256 seen; // bit 2: TCB, bit 3: PCE-ID, bit 4: FMSPC
        uint256 p = s;
        while (p < e) {
            (uint256 is_, uint256 ie) = D.expect(der, p, e, 0x30);
            (uint256 os, uint256 oe) = D.expect(der, is_, ie, 0x06);
            if (oe - os == 10 && D.eqShort(der, os, os + 9, SGX_EXT, 9)) {
                uint256 arc = D.u8(der, oe - 1);
                if (arc == 2) {
                    _sgxTcb(der, oe, ie, pck);
                    seen |= 4;
                } else if (arc == 3) {
                    (uint256 xs, uint256 xe) = D.expect(der, oe, ie, 0x04);
                    if (xe - xs != 2) revert PckExtensionInvalid();
                    pck.pceId = bytes2(uint16(D.uintValueRaw(der, xs, xe)));
                    seen |= 8;
                } else if (arc == 4) {
                    (uint256 xs, uint256 xe) = D.expect(der, oe, ie, 0x04);
                    if (xe - xs != 6) revert PckExtensionInvalid();
                    pck.fmspc = bytes6(uint48(D.uintValueRaw(der, xs, xe)));
                    seen |= 16;
                }
            }
            p = ie;
        }
        if (seen != 28) revert PckExtensionInvalid();
    }

    function _sgxTcb(bytes memory der, uint256 p, uint256 end, Pck memory pck) private pure {
        (uint256 s, uint256 e) = D.expect(der, p, end, 0x30);
        uint256 seen;
        p = s;
        while (p < e) {
            uint256 bit;
            (bit, p) = _sgxTcbItem(der, p, e, pck);
            seen |= bit;
        }
        if (seen != 0x3fffe) revert PckExtensionInvalid();
    }

    /// @dev One {OID ...13.1.2.N, INTEGER} of the TCB sequence: components 1-16 and PCESVN (17); CPUSVN (18) skipped.
    function _sgxTcbItem(bytes memory der, uint256 p, uint256 e, Pck memory pck) private pure returns (uint256 bit, uint256 next) {
        (uint256 is_, uint256 ie) = D.expect(der, p, e, 0x30);
        next = ie;
        (uint256 os, uint256 oe) = D.expect(der, is_, ie, 0x06);
        if (oe - os != 11 || !D.eqShort(der, os, os + 9, SGX_EXT, 9) || D.u8(der, os + 9) != 2) return (0, ie);
        uint256 arc = D.u8(der, oe - 1);
        if (arc < 1 || arc > 17) return (0, ie);
        (uint256 xs, uint256 xe) = D.expect(der, oe, ie, 0x02);
        uint256 v = D.uintValue(der, xs, xe);
        if (arc <= 16) {
            if (v > 255) revert PckExtensionInvalid();
            pck.sgxComponents |= bytes16(uint128(v << (8 * (16 - arc))));
        } else {
            if (v > 0xffff) revert PckExtensionInvalid();
            pck.pceSvn = uint16(v);
        }
        bit = 1 << arc;
    }
}
