// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {DerReader as D} from "./DerReader.sol";

/// @title IntelJson
/// @notice A minimal RFC 8259 JSON cursor over memory bytes, enough to walk Intel PCS collateral (TCB Info, Enclave
///         Identity): objects, arrays, strings without interpretation of escapes, unsigned integers, and skipping any
///         value. Positions are byte offsets; every read is bounds-checked and reverts {JsonMalformed} otherwise.
/// @dev The signature covers the exact bytes, so the walker never re-serialises: it reads values where they are.
library IntelJson {
    /// @notice The JSON is malformed (or not of the expected shape) at byte `offset`.
    error JsonMalformed(uint256 offset);

    /// @notice Skips whitespace (space, tab, CR, LF) from `p`.
    function ws(bytes memory j, uint256 p) internal pure returns (uint256) {
        uint256 n = j.length;
        while (p < n) {
            uint256 c = D.u8(j, p);
            if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
            ++p;
        }
        return p;
    }

    /// @notice Expects byte `c` at the first non-space position from `p`; returns the position after it.
    function lit(bytes memory j, uint256 p, uint256 c) internal pure returns (uint256) {
        p = ws(j, p);
        if (p >= j.length || D.u8(j, p) != c) revert JsonMalformed(p);
        return p + 1;
    }

    /// @notice Opens an object (`{`) or array (`[`) at `p`; `nonEmpty` is false (and `q` after the closer) when empty.
    function begin(bytes memory j, uint256 p, uint256 open) internal pure returns (bool nonEmpty, uint256 q) {
        q = ws(j, lit(j, p, open));
        if (q < j.length && D.u8(j, q) == open + 2) return (false, q + 1); // '}' = '{' + 2, ']' = '[' + 2
        nonEmpty = true;
    }

    /// @notice After a member/element: `more` when a `,` follows (q after it), else expects the closer `close`.
    function next(bytes memory j, uint256 p, uint256 close) internal pure returns (bool more, uint256 q) {
        q = ws(j, p);
        if (q >= j.length) revert JsonMalformed(q);
        uint256 c = D.u8(j, q);
        if (c == 0x2c) return (true, q + 1);
        if (c != close) revert JsonMalformed(q);
        return (false, q + 1);
    }

    /// @notice A string at `p`: content range `[s, e)` (escapes left as is) and the position after the quote.
    function str(bytes memory j, uint256 p) internal pure returns (uint256 s, uint256 e, uint256 q) {
        p = lit(j, p, 0x22);
        s = p;
        uint256 n = j.length;
        while (p < n) {
            uint256 c = D.u8(j, p);
            if (c == 0x22) return (s, p, p + 1);
            if (c == 0x5c) ++p;
            else if (c < 0x20) revert JsonMalformed(p);
            ++p;
        }
        revert JsonMalformed(p);
    }

    /// @notice An object key at `p` (string then `:`): keccak256 of the key and the position of the value.
    function key(bytes memory j, uint256 p) internal pure returns (bytes32 h, uint256 q) {
        (uint256 s, uint256 e, uint256 r) = str(j, p);
        h = D.keccakRange(j, s, e);
        q = lit(j, r, 0x3a);
    }

    /// @notice An unsigned integer at `p` (digits only) and the position after it.
    function uint_(bytes memory j, uint256 p) internal pure returns (uint256 v, uint256 q) {
        q = ws(j, p);
        uint256 start = q;
        uint256 n = j.length;
        while (q < n) {
            uint256 c = D.u8(j, q);
            if (c < 0x30 || c > 0x39) break;
            v = v * 10 + (c - 0x30);
            ++q;
        }
        if (q == start || q - start > 18) revert JsonMalformed(start);
        if (q < n) {
            uint256 c = D.u8(j, q);
            if (c == 0x2e || c == 0x65 || c == 0x45) revert JsonMalformed(q); // fractions and exponents refused
        }
    }

    /// @notice Skips any JSON value at `p`; returns the position after it.
    function skip(bytes memory j, uint256 p) internal pure returns (uint256) {
        p = ws(j, p);
        if (p >= j.length) revert JsonMalformed(p);
        uint256 c = D.u8(j, p);
        if (c == 0x22) {
            (, , uint256 q) = str(j, p);
            return q;
        }
        if (c == 0x7b || c == 0x5b) {
            (bool more, uint256 q) = begin(j, p, c);
            while (more) {
                if (c == 0x7b) (, q) = key(j, q);
                q = skip(j, q);
                (more, q) = next(j, q, c + 2);
            }
            return q;
        }
        uint256 n = j.length;
        uint256 s = p;
        while (p < n) {
            c = D.u8(j, p);
            if (c == 0x2c || c == 0x7d || c == 0x5d || c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) break;
            ++p;
        }
        if (p == s) revert JsonMalformed(p);
        return p;
    }

    /// @notice A hex string value at `p` of exactly `n` bytes (2n digits, either case).
    function hexBytes(bytes memory j, uint256 p, uint256 n) internal pure returns (bytes memory out, uint256 q) {
        (uint256 s, uint256 e, uint256 r) = str(j, p);
        if (e - s != 2 * n) revert JsonMalformed(s);
        out = new bytes(n);
        for (uint256 i; i < n; ++i) out[i] = bytes1(uint8((_nib(j, s + 2 * i) << 4) | _nib(j, s + 2 * i + 1)));
        q = r;
    }

    /// @notice A hex string of `n <= 32` bytes at `p`, left-aligned.
    function hexWord(bytes memory j, uint256 p, uint256 n) internal pure returns (bytes32 w, uint256 q) {
        bytes memory b;
        (b, q) = hexBytes(j, p, n);
        assembly ("memory-safe") {
            w := mload(add(b, 32))
        }
        if (n < 32) w &= ~bytes32(type(uint256).max >> (8 * n));
    }

    /// @notice An ISO 8601 UTC date string `YYYY-MM-DDTHH:MM:SSZ` at `p` as unix seconds.
    function date(bytes memory j, uint256 p) internal pure returns (uint64 t, uint256 q) {
        (uint256 s, uint256 e, uint256 r) = str(j, p);
        if (e - s != 20 || D.u8(j, s + 4) != 0x2d || D.u8(j, s + 7) != 0x2d || D.u8(j, s + 10) != 0x54 || D.u8(j, s + 13) != 0x3a
            || D.u8(j, s + 16) != 0x3a || D.u8(j, s + 19) != 0x5a) revert JsonMalformed(s);
        uint256 day = D.daysFromCivil(D.digits(j, s, 4), D.digits(j, s + 5, 2), D.digits(j, s + 8, 2));
        t = uint64(day * 86400 + D.secondsOfDay(D.digits(j, s + 11, 2), D.digits(j, s + 14, 2), D.digits(j, s + 17, 2)));
        q = r;
    }

    function _nib(bytes memory j, uint256 i) private pure returns (uint256) {
        uint256 c = D.u8(j, i);
        if (c >= 0x30 && c <= 0x39) return c - 0x30;
        if (c >= 0x61 && c <= 0x66) return c - 0x57;
        if (c >= 0x41 && c <= 0x46) return c - 0x37;
        revert JsonMalformed(i);
    }
}
