// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title P256
/// @notice ECDSA P-256 verification through the EIP-7951 P256VERIFY precompile (address 0x100, Osaka) and SHA-256
///         through the SHA256 precompile (address 0x02) over memory or calldata ranges without copying.
/// @dev EIP-7951 returns 32 bytes `1` on success and empty output on failure; an absent precompile also returns
///      empty output, so a chain without it refuses every signature rather than accepting one. Intel signatures
///      are not low-s normalised; the precompile accepts both s and n - s, as ECDSA does.
library P256 {
    /// @notice EIP-7951 P256VERIFY precompile address.
    address internal constant PRECOMPILE = address(0x100);

    /// @notice True when (r, s) is a valid P-256 signature of the SHA-256 digest `h` under the key (x, y).
    function verify(bytes32 h, bytes32 r, bytes32 s, bytes32 x, bytes32 y) internal view returns (bool ok) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, h)
            mstore(add(p, 0x20), r)
            mstore(add(p, 0x40), s)
            mstore(add(p, 0x60), x)
            mstore(add(p, 0x80), y)
            mstore(0x00, 0)
            let success := staticcall(gas(), 0x100, p, 0xa0, 0x00, 0x20)
            ok := and(and(success, eq(returndatasize(), 0x20)), eq(mload(0x00), 1))
        }
    }

    /// @notice SHA-256 of `b[s, e)` (memory).
    function sha256Range(bytes memory b, uint256 s, uint256 e) internal view returns (bytes32 h) {
        require(s <= e && e <= b.length);
        assembly ("memory-safe") {
            if iszero(staticcall(gas(), 0x02, add(add(b, 32), s), sub(e, s), 0x00, 0x20)) { revert(0, 0) }
            h := mload(0x00)
        }
    }
}
