// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title PemChain
/// @notice Splits the PEM text of a DCAP quote's certification data type 5 (RFC 7468 "CERTIFICATE" blocks, leaf first)
///         into base64 blocks and decodes them (RFC 4648 section 4).
/// @dev Accepts Intel's (and every common encoder's) layout: blocks separated by whitespace, trailing NUL bytes, line
///      breaks only between 4-character groups (lines of 64 characters). A line break inside a group, a bad
///      character, bad padding or non-zero padding bits revert {PemMalformed}: stricter than a lenient decoder, never
///      more permissive. Decoding works one 4-character group per step (about 40 gas a character).
library PemChain {
    /// @notice The PEM text is malformed at byte `offset`.
    error PemMalformed(uint256 offset);

    /// @notice A base64 block of the text: `[start, end)` are the offsets of its body (between the markers).
    struct Block {
        uint256 start;
        uint256 end;
    }

    bytes32 private constant BEGIN = "-----BEGIN CERTIFICATE-----"; // 27 bytes
    bytes32 private constant END = "-----END CERTIFICATE-----"; // 25 bytes

    /// @dev Value of each byte: 0-63 base64 digit, 0xfe '=', 0xfd whitespace, 0xfc '-' (end marker), 0xff invalid.
    bytes private constant TABLE = hex"fffffffffffffffffffdfdfffffdfffffffffffffffffffffffffffffffffffffdffffffffffffffffffff3efffcff3f3435363738393a3b3c3dfffffffeffffff000102030405060708090a0b0c0d0e0f10111213141516171819ffffffffffff1a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    /// @notice The base64 bodies of the (at most `maxCerts`) CERTIFICATE blocks of `pem`, in order.
    function blocks(bytes calldata pem, uint256 maxCerts) internal pure returns (Block[] memory out) {
        out = new Block[](maxCerts);
        uint256 n;
        uint256 p;
        uint256 len = pem.length;
        while (true) {
            p = _skipSpace(pem, p);
            if (p == len) break;
            if (n == maxCerts || p + 27 > len || bytes32(pem[p:p + 27]) != BEGIN) revert PemMalformed(p);
            p += 27;
            uint256 e = _findDash(pem, p);
            if (e + 25 > len || bytes32(pem[e:e + 25]) != END) revert PemMalformed(e);
            out[n++] = Block(p, e);
            p = e + 25;
        }
        assembly ("memory-safe") {
            mstore(out, n)
        }
    }

    /// @notice Base64 decoding of `s` (the body of a block: groups of 4 characters, whitespace between groups).
    /// @param offset offset of `s` in the PEM text, for error reports.
    function base64(bytes calldata s, uint256 offset) internal pure returns (bytes memory out) {
        bytes memory table = TABLE;
        out = new bytes((s.length * 3) / 4 + 32);
        uint256 o;
        uint256 bad;
        assembly ("memory-safe") {
            let dst := add(out, 32)
            let tbl := add(table, 32)
            let src := s.offset
            let limit := add(src, s.length)
            for {} lt(src, limit) {} {
                let w := calldataload(src)
                let v0 := byte(0, mload(add(tbl, byte(0, w))))
                if eq(v0, 0xfd) {
                    src := add(src, 1)
                    continue
                }
                if gt(add(src, 4), limit) {
                    bad := 1
                    break
                }
                let v1 := byte(0, mload(add(tbl, byte(1, w))))
                let v2 := byte(0, mload(add(tbl, byte(2, w))))
                let v3 := byte(0, mload(add(tbl, byte(3, w))))
                if gt(or(or(v0, v1), or(v2, v3)), 63) {
                    // Only a final group with padding may hold a non-digit: "xx==" (1 byte) or "xxx=" (2 bytes).
                    if or(gt(or(v0, v1), 63), iszero(eq(v3, 0xfe))) {
                        bad := 1
                        break
                    }
                    switch eq(v2, 0xfe)
                    case 1 {
                        if and(v1, 0x0f) { bad := 1 }
                        mstore8(add(dst, o), or(shl(2, v0), shr(4, v1)))
                        o := add(o, 1)
                    }
                    default {
                        if or(gt(v2, 63), and(v2, 0x03)) { bad := 1 }
                        let x := or(or(shl(18, v0), shl(12, v1)), shl(6, v2))
                        mstore(add(dst, o), shl(232, x))
                        o := add(o, 2)
                    }
                    src := add(src, 4)
                    // Only whitespace may follow the padding.
                    for {} lt(src, limit) { src := add(src, 1) } {
                        if iszero(eq(byte(0, mload(add(tbl, byte(0, calldataload(src))))), 0xfd)) {
                            bad := 1
                            break
                        }
                    }
                    break
                }
                mstore(add(dst, o), shl(232, or(or(shl(18, v0), shl(12, v1)), or(shl(6, v2), v3))))
                o := add(o, 3)
                src := add(src, 4)
            }
        }
        if (bad != 0) revert PemMalformed(offset);
        assembly ("memory-safe") {
            mstore(out, o)
        }
    }

    function _skipSpace(bytes calldata pem, uint256 p) private pure returns (uint256) {
        uint256 len = pem.length;
        while (p < len) {
            bytes1 c = pem[p];
            if (c != 0x0a && c != 0x0d && c != 0x20 && c != 0x09 && c != 0) break;
            ++p;
        }
        return p;
    }

    /// @dev Offset of the first '-' at or after `p` (pem.length when none). Whole words without a '-' are skipped
    ///      with the zero-byte test on `w XOR 0x2d2d..2d` (no false negatives; a hit is confirmed byte by byte).
    function _findDash(bytes calldata pem, uint256 p) private pure returns (uint256 r) {
        uint256 len = pem.length;
        assembly ("memory-safe") {
            let ones := 0x0101010101010101010101010101010101010101010101010101010101010101
            let highs := 0x8080808080808080808080808080808080808080808080808080808080808080
            let dashes := 0x2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d
            r := len
            for {} lt(add(p, 31), len) { p := add(p, 32) } {
                let x := xor(calldataload(add(pem.offset, p)), dashes)
                if and(and(sub(x, ones), not(x)), highs) { break }
            }
            for {} lt(p, len) { p := add(p, 1) } {
                if eq(byte(0, calldataload(add(pem.offset, p))), 0x2d) {
                    r := p
                    break
                }
            }
        }
    }
}
