// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title DerReader
/// @notice Bounds-checked reader of DER (ITU-T X.690 section 10) TLVs in memory, plus ASN.1 UTCTime/GeneralizedTime
///         (RFC 5280 4.1.2.5) to unix seconds. Offsets are byte indexes into the `bytes` content (not memory addresses).
/// @dev Supports definite lengths up to 3 length bytes (16 MiB), which covers every Intel PCS certificate and CRL.
library DerReader {
    /// @notice The DER at `offset` is truncated, uses an unsupported length form, or has an unexpected tag.
    error DerMalformed(uint256 offset);

    /// @notice Byte `i` of `b` (caller checks `i < b.length`).
    function u8(bytes memory b, uint256 i) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            r := byte(0, mload(add(add(b, 32), i)))
        }
    }

    /// @notice The TLV at `pos`, which must end at or before `limit`: tag, content start, content end.
    function node(bytes memory b, uint256 pos, uint256 limit) internal pure returns (uint256 tag, uint256 cs, uint256 ce) {
        if (limit > b.length || pos + 2 > limit) revert DerMalformed(pos);
        tag = u8(b, pos);
        uint256 len = u8(b, pos + 1);
        cs = pos + 2;
        if (len & 0x80 != 0) {
            uint256 n = len & 0x7f;
            if (n == 0 || n > 3 || cs + n > limit) revert DerMalformed(pos);
            len = 0;
            for (uint256 i; i < n; ++i) len = (len << 8) | u8(b, cs + i);
            cs += n;
        }
        ce = cs + len;
        if (ce > limit) revert DerMalformed(pos);
    }

    /// @notice Like {node} but reverts unless the tag is `want`.
    function expect(bytes memory b, uint256 pos, uint256 limit, uint256 want) internal pure returns (uint256 cs, uint256 ce) {
        uint256 tag;
        (tag, cs, ce) = node(b, pos, limit);
        if (tag != want) revert DerMalformed(pos);
    }

    /// @notice Tag at `pos` (0 when `pos >= limit`).
    function tagAt(bytes memory b, uint256 pos, uint256 limit) internal pure returns (uint256) {
        return pos < limit && pos < b.length ? u8(b, pos) : 0;
    }

    /// @notice keccak256 of `b[s, e)`.
    function keccakRange(bytes memory b, uint256 s, uint256 e) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(add(add(b, 32), s), sub(e, s))
        }
    }

    /// @notice True when `b[s, e)` equals `want` (up to 32 bytes, left-aligned in `want`, `e - s == n`).
    function eqShort(bytes memory b, uint256 s, uint256 e, bytes32 want, uint256 n) internal pure returns (bool) {
        if (e - s != n || n > 32) return false;
        bytes32 w;
        assembly ("memory-safe") {
            w := mload(add(add(b, 32), s))
        }
        bytes32 mask = n == 32 ? bytes32(type(uint256).max) : ~bytes32(type(uint256).max >> (n * 8));
        return (w & mask) == (want & mask);
    }

    /// @notice Unsigned INTEGER content `b[s, e)` as a number (at most 32 bytes after a leading 0x00); reverts if
    ///         negative or too long.
    function uintValue(bytes memory b, uint256 s, uint256 e) internal pure returns (uint256 v) {
        if (e <= s) revert DerMalformed(s);
        if (u8(b, s) & 0x80 != 0) revert DerMalformed(s);
        if (u8(b, s) == 0 && e - s > 1) ++s;
        if (e - s > 32) revert DerMalformed(s);
        for (uint256 i = s; i < e; ++i) v = (v << 8) | u8(b, i);
    }

    /// @notice Big-endian value of `b[s, e)` (at most 32 bytes), no sign handling (OCTET STRING content).
    function uintValueRaw(bytes memory b, uint256 s, uint256 e) internal pure returns (uint256 v) {
        if (e - s > 32) revert DerMalformed(s);
        for (uint256 i = s; i < e; ++i) v = (v << 8) | u8(b, i);
    }

    /// @notice An ASN.1 Time (UTCTime tag 0x17 `YYMMDDHHMMSSZ`, RFC 5280: YY < 50 is 20YY; GeneralizedTime tag 0x18
    ///         `YYYYMMDDHHMMSSZ`) at `pos` as unix seconds, and the position after it.
    function time(bytes memory b, uint256 pos, uint256 limit) internal pure returns (uint64 t, uint256 next) {
        (uint256 tag, uint256 cs, uint256 ce) = node(b, pos, limit);
        uint256 year;
        uint256 p;
        if (tag == 0x17 && ce - cs == 13) {
            year = digits(b, cs, 2);
            year += year < 50 ? 2000 : 1900;
            p = cs + 2;
        } else if (tag == 0x18 && ce - cs == 15) {
            year = digits(b, cs, 4);
            p = cs + 4;
        } else {
            revert DerMalformed(pos);
        }
        if (u8(b, ce - 1) != 0x5a) revert DerMalformed(pos); // 'Z'
        uint256 day = daysFromCivil(year, digits(b, p, 2), digits(b, p + 2, 2));
        t = uint64(day * 86400 + secondsOfDay(digits(b, p + 4, 2), digits(b, p + 6, 2), digits(b, p + 8, 2)));
        next = ce;
    }

    /// @notice `n` ASCII decimal digits at `p`.
    function digits(bytes memory b, uint256 p, uint256 n) internal pure returns (uint256 v) {
        for (uint256 i; i < n; ++i) {
            uint256 c = u8(b, p + i);
            if (c < 0x30 || c > 0x39) revert DerMalformed(p);
            v = v * 10 + (c - 0x30);
        }
    }

    /// @notice Seconds since midnight; reverts on out-of-range fields.
    function secondsOfDay(uint256 hh, uint256 mm, uint256 ss) internal pure returns (uint256) {
        if (hh > 23 || mm > 59 || ss > 60) revert DerMalformed(0);
        return hh * 3600 + mm * 60 + ss;
    }

    /// @notice Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil); year >= 1970.
    function daysFromCivil(uint256 y, uint256 m, uint256 d) internal pure returns (uint256) {
        if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31) revert DerMalformed(0);
        if (m <= 2) y -= 1;
        uint256 era = y / 400;
        uint256 yoe = y - era * 400;
        uint256 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        uint256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
    }
}
