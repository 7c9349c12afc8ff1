// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IRoyaltySplitter
/// @notice A fixed split of every payment (ETH and ERC-20) among N recipients by basis points.
/// @dev Accounting, per token (ETH is `address(0)`):
///      - what the splitter holds is either credited to a recipient (`owed`) or not yet distributed;
///      - `distribute(token)` splits the undistributed amount `U`: recipient `i >= 1` is credited
///        `floor(U * bps[i] / 10000)`, the first recipient (the lowest address, recipients are sorted)
///        `U` minus all of those, i.e. its own share plus the rounding remainder (< N wei);
///      - a recipient withdraws its credit (pull). Every withdrawal first distributes what is
///        undistributed, so no separate `distribute` call is needed.
///      No wei is lost: `sum(withdrawable) == what the splitter holds` at all times, hence
///      `received == withdrawn + withdrawable` exactly. Nothing is ever pushed during a
///      distribution, so a recipient that cannot receive ETH blocks only its own withdrawal
///      (and can still `withdrawTo` another address).
interface IRoyaltySplitter {
    // ---------------------------------------------------------------- errors

    /// @notice The implementation contract was called directly; only its clones hold a split.
    error SplitterNotAClone();
    /// @notice `account` is not one of this splitter's recipients.
    error SplitterNotRecipient(address account);
    /// @notice `account` has nothing to withdraw in `token` (after distributing what was undistributed).
    error SplitterNothingToWithdraw(address account, address token);
    /// @notice There is nothing undistributed in `token`.
    error SplitterNothingToDistribute(address token);
    /// @notice A withdrawal named the zero address as payee.
    error SplitterPayeeZero();
    /// @notice Sending `amount` wei to `to` failed (the payee reverted or ran out of gas).
    error SplitterEthTransferFailed(address to, uint256 amount);
    /// @notice The token reports a balance of `held`, less than the `amount` to pay.
    error SplitterTokenBalanceTooLow(address token, uint256 amount, uint256 held);
    /// @notice Paying `amount` of `token` took `taken` from the splitter (more than asked).
    error SplitterTokenMisbehaved(address token, uint256 amount, uint256 taken);

    // ---------------------------------------------------------------- events

    /// @notice `amount` wei arrived from `from` through `receive()`.
    event PaymentReceived(address indexed from, uint256 amount);
    /// @notice `amount` of `token` (address(0) = ETH) was credited to the recipients by `by`.
    event Distributed(address indexed token, uint256 amount, address indexed by);
    /// @notice `recipient` withdrew `amount` of `token` (address(0) = ETH), paid to `to`.
    event Withdrawn(address indexed recipient, address indexed token, uint256 amount, address to);

    // ---------------------------------------------------------------- writes

    /// @notice Credit every recipient its share of what `token` holds beyond the credits.
    /// @dev Anyone may call. Emits `Distributed`. Reverts `SplitterNothingToDistribute`.
    /// @param token The ERC-20 token, or address(0) for ETH.
    /// @return amount What was distributed.
    function distribute(address token) external returns (uint256 amount);

    /// @notice Withdraw the caller's whole credit in `token` to the caller (distributing first).
    /// @dev Only a recipient. Emits `Distributed` (when something was undistributed) and `Withdrawn`.
    ///      Reverts `SplitterNotRecipient`, `SplitterNothingToWithdraw`, `SplitterEthTransferFailed`,
    ///      `SplitterTokenBalanceTooLow`, `SplitterTokenMisbehaved`, `SafeERC20FailedOperation`.
    /// @return amount What was paid.
    function withdraw(address token) external returns (uint256 amount);

    /// @notice Withdraw the caller's whole credit in `token` to `to` (e.g. when the caller cannot take ETH).
    /// @dev Only a recipient. As `withdraw`; also reverts `SplitterPayeeZero`.
    /// @return amount What was paid.
    function withdrawTo(address token, address payable to) external returns (uint256 amount);

    /// @notice Pay `recipient` its whole credit in `token` (distributing first).
    /// @dev Anyone may call; the money goes to `recipient` only. As `withdraw`.
    /// @return amount What was paid.
    function withdrawFor(address token, address recipient) external returns (uint256 amount);

    // ---------------------------------------------------------------- views

    /// @notice The recipients (ascending addresses) and their basis points (summing to 10000).
    function recipients() external view returns (address[] memory accounts, uint16[] memory bps);

    /// @notice The basis points of `account` (0 when it is not a recipient).
    function shareOf(address account) external view returns (uint16 bps);

    /// @notice What `account` could withdraw in `token` now (its credit plus its share of what is undistributed).
    function withdrawable(address token, address account) external view returns (uint256);

    /// @notice What `token` holds beyond the recipients' credits (what `distribute` would split now).
    function undistributed(address token) external view returns (uint256);
}
