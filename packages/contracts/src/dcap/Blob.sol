// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title Blob
/// @notice Write-once byte storage as contract code: `write` deploys `0x00 || data` as the runtime code of a new
///         contract, `read` copies it back with EXTCODECOPY. Reading n bytes costs 2,600 + 3 per word (cold account)
///         instead of 2,100 per 32-byte storage slot, which is why collateral records (read on every quote) live here.
/// @dev The leading STOP byte makes the blob contract inert if called. Creation code: PUSH2 len, DUP1, PUSH1 12,
///      PUSH1 0, CODECOPY, PUSH1 0, RETURN (12 bytes), then the runtime code.
library Blob {
    /// @notice Deploying the blob failed (out of gas, or data over the 24,575-byte code size limit).
    error BlobWriteFailed(uint256 length);

    /// @notice Stores `data`; returns the blob address.
    function write(bytes memory data) internal returns (address a) {
        uint256 n = data.length + 1;
        if (n > 0x6000) revert BlobWriteFailed(data.length);
        bytes memory init = abi.encodePacked(hex"61", uint16(n), hex"80600c6000396000f3", hex"00", data);
        assembly ("memory-safe") {
            a := create(0, add(init, 32), mload(init))
        }
        if (a == address(0)) revert BlobWriteFailed(data.length);
    }

    /// @notice The data stored at blob `a` (empty when `a` holds no blob).
    function read(address a) internal view returns (bytes memory data) {
        uint256 size = a.code.length;
        if (size == 0) return data;
        data = new bytes(size - 1);
        assembly ("memory-safe") {
            extcodecopy(a, add(data, 32), 1, sub(size, 1))
        }
    }
}
