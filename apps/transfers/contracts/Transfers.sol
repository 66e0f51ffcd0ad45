// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {GeodeCore} from "@geode/contracts/GeodeCore.sol";

/// @title Transfers
/// @notice Quartz's transfers example on Geode: ETH deposited here becomes the depositor's private balance inside the
///         enclave; transfers and balance queries are private requests (GeodeCore.submitRequest); a withdrawal is a
///         private request whose outcome the enclave publishes as a public output, which this contract credits once
///         in `_onPublicOutput` and the user then claims.
/// @dev deposit() appends the public request 0x02 || abi.encode("transfers.deposit", abi.encode(uint256 amount))
///      attributed to msg.sender. A withdrawal's public output is abi.encode(address to, uint256 amount).
///      Conservation (checked by the app's tests): once every request is committed,
///      address(this).balance == sum of private balances + totalOwed.
contract Transfers is GeodeCore {
    /// @notice Wei credited by withdrawals and not yet claimed, per account.
    mapping(address account => uint256 weiOwed) public owed;
    /// @notice Sum of `owed` (pending withdrawals).
    uint256 public totalOwed;

    /// @notice ETH was deposited; the enclave credits it to `account`'s private balance when it processes `seq`.
    /// @param account The depositor.
    /// @param amount Wei deposited.
    /// @param seq Sequence number of the deposit request.
    event Deposited(address indexed account, uint256 amount, uint256 indexed seq);
    /// @notice The enclave approved a withdrawal (request `seq`); `amount` wei can now be claimed by `account`.
    /// @param seq Sequence number of the withdrawal request.
    /// @param account Who may claim.
    /// @param amount Wei credited.
    event WithdrawalCredited(uint256 indexed seq, address indexed account, uint256 amount);
    /// @notice `account` claimed `amount` wei.
    /// @param account The claimer (and recipient).
    /// @param amount Wei paid out.
    event Claimed(address indexed account, uint256 amount);

    /// @notice deposit() was called without value.
    error ZeroDeposit();
    /// @notice claim() with nothing owed to the caller.
    error NothingToClaim(address account);
    /// @notice Sending the claimed ETH to the caller failed (the caller's code refused it); nothing was claimed.
    error PayoutFailed(address account, uint256 amount);

    /// @notice Deploys the core (see GeodeCore's constructor).
    constructor(
        bytes32[] memory measurements_,
        address verifier_,
        address lcSigner_,
        bytes32 lcGenesisHash_,
        bytes32 policyHash_,
        address admin_
    ) GeodeCore(measurements_, verifier_, lcSigner_, lcGenesisHash_, policyHash_, admin_) {}

    /// @notice Deposit msg.value wei into the caller's private balance (a public request: the amount is public).
    /// @return seq The deposit request's sequence number.
    function deposit() external payable returns (uint256 seq) {
        if (msg.value == 0) revert ZeroDeposit();
        seq = _appendPublicRequest(msg.sender, "transfers.deposit", abi.encode(msg.value));
        emit Deposited(msg.sender, msg.value, seq);
    }

    /// @notice Pay the caller everything its withdrawals credited (pull payment: a recipient that refuses ETH can only
    ///         fail its own claim, never a commitment).
    /// @return amount Wei paid.
    function claim() external returns (uint256 amount) {
        amount = owed[msg.sender];
        if (amount == 0) revert NothingToClaim(msg.sender);
        owed[msg.sender] = 0;
        totalOwed -= amount;
        (bool ok,) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert PayoutFailed(msg.sender, amount);
        emit Claimed(msg.sender, amount);
    }

    /// @notice The withdrawal hook: credits abi.encode(address to, uint256 amount) to `to`.
    /// @dev Called once per public output by GeodeCore.commitBatch; each batch commits once, so each withdrawal is
    ///      credited exactly once. Only the enclave's handler publishes here (the commitment is signed by its key).
    function _onPublicOutput(uint256 seq, bytes calldata data) internal override {
        (address to, uint256 amount) = abi.decode(data, (address, uint256));
        owed[to] += amount;
        totalOwed += amount;
        emit WithdrawalCredited(seq, to, amount);
    }
}
