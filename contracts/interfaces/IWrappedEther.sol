// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IWrappedEther
/// @notice Wrapped ETH (WETH9 semantics): deposit ETH to get the same amount of an ERC-20 (18
///         decimals), withdraw to get the ETH back. Offers on the marketplace are made in it,
///         since an offer is paid by transferFrom from the buyer when the holder accepts.
/// @dev ERC-20 `Transfer`/`Approval` events as the standard names them; an allowance of
///      type(uint256).max is never spent down (WETH9 convention).
interface IWrappedEther is IERC20 {
    /// @notice Emitted when `account` wrapped `amount` wei.
    event Deposited(address indexed account, uint256 amount);
    /// @notice Emitted when `account` unwrapped `amount` wei and it was sent to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);

    /// @notice `account` holds `balance`, less than the `needed` it tried to move or unwrap.
    error WrappedEtherBalanceTooLow(address account, uint256 balance, uint256 needed);
    /// @notice `spender` may move only `allowance` of `owner`'s tokens, less than `needed`.
    error WrappedEtherAllowanceTooLow(address owner, address spender, uint256 allowance, uint256 needed);
    /// @notice Tokens cannot be sent to `to` (the zero address or this contract: that would lock them).
    error WrappedEtherRecipientInvalid(address to);
    /// @notice Sending `amount` wei to `to` failed (it refused ETH).
    error WrappedEtherPayoutFailed(address to, uint256 amount);

    /// @notice Wrap msg.value: the caller's balance grows by it.
    /// @dev Anyone. Emits Deposited and Transfer(0, caller, value). Plain ETH sent to the contract does the same.
    function deposit() external payable;

    /// @notice Unwrap `amount`: burn it from the caller and send the ETH to the caller.
    /// @dev Emits Transfer(caller, 0, amount) and Withdrawn. Reverts with WrappedEtherBalanceTooLow,
    ///      WrappedEtherPayoutFailed.
    function withdraw(uint256 amount) external;

    /// @notice Unwrap `amount` and send the ETH to `to`.
    /// @dev As withdraw; also WrappedEtherRecipientInvalid for the zero address.
    function withdrawTo(address payable to, uint256 amount) external;

    /// @notice The token's name ("Wrapped Ether").
    function name() external view returns (string memory);

    /// @notice The token's symbol ("WETH").
    function symbol() external view returns (string memory);

    /// @notice 18, as ETH.
    function decimals() external view returns (uint8);
}
