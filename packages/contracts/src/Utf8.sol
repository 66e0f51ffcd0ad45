// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title Utf8
/// @notice Strict UTF-8 validation (RFC 3629 §4 syntax), the same predicate as the enclave's decoder
///         (decodeUtf8Strict in packages/protocol/src/strings.ts: a fatal TextDecoder). Names are bytes: a contract that keys anything
///         by a string the enclave will read (a computation name, a request kind) must refuse, before appending it,
///         every byte string the enclave would refuse. Use `isValid` for that (docs/apps.md#names).
/// @dev Accepted sequences (RFC 3629 §4, "UTF8-octets"):
///      1. 00..7F
///      2. C2..DF 80..BF                      (C0, C1 would be overlong)
///      3. E0 A0..BF 80..BF                   (E0 80..9F would be overlong)
///      4. E1..EC 80..BF 80..BF
///      5. ED 80..9F 80..BF                   (ED A0..BF would be the surrogates U+D800..U+DFFF)
///      6. EE..EF 80..BF 80..BF
///      7. F0 90..BF 80..BF 80..BF            (F0 80..8F would be overlong)
///      8. F1..F3 80..BF 80..BF 80..BF
///      9. F4 80..8F 80..BF 80..BF            (F4 90..BF would exceed U+10FFFF)
///      Anything else (F5..FF, a stray 80..BF, a truncated sequence) is invalid. A leading EF BB BF (U+FEFF) is
///      valid and is part of the name. Gas: linear in the length (a few hundred gas for a 64-byte name).
library Utf8 {
    /// @notice Whether `s` is well-formed UTF-8 (RFC 3629).
    /// @param s The bytes to check (any length).
    /// @return True when every byte belongs to one of the sequences listed above.
    function isValid(bytes memory s) internal pure returns (bool) {
        uint256 n = s.length;
        uint256 i = 0;
        while (i < n) {
            uint8 b = uint8(s[i]);
            // 1. ASCII
            if (b < 0x80) {
                ++i;
                continue;
            }
            uint256 len;
            uint8 lo = 0x80; // range of the second byte
            uint8 hi = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) {
                len = 2; // 2.
            } else if (b >= 0xE0 && b <= 0xEF) {
                len = 3;
                if (b == 0xE0) lo = 0xA0; // 3.
                else if (b == 0xED) hi = 0x9F; // 5.
            } else if (b >= 0xF0 && b <= 0xF4) {
                len = 4;
                if (b == 0xF0) lo = 0x90; // 7.
                else if (b == 0xF4) hi = 0x8F; // 9.
            } else {
                return false; // 80..C1 (stray continuation, overlong lead) or F5..FF
            }
            if (i + len > n) return false; // truncated
            uint8 b1 = uint8(s[i + 1]);
            if (b1 < lo || b1 > hi) return false;
            for (uint256 k = 2; k < len; ++k) {
                uint8 c = uint8(s[i + k]);
                if (c < 0x80 || c > 0xBF) return false;
            }
            i += len;
        }
        return true;
    }
}
