// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IWrappedEther} from "../interfaces/IWrappedEther.sol";

/// @title WrappedEther
/// @notice ETH as an ERC-20 (WETH9 semantics, our own code): the currency of marketplace offers.
///         Deployed by the plan on every chain, so offers work on a fresh local network.
/// @dev totalSupply() is the ETH held, always: deposits mint exactly msg.value, withdrawals burn
///      exactly what they send. Checks, effects, then the one interaction (the ETH payout).
contract WrappedEther is IWrappedEther {
    mapping(address account => uint256) private _balances;
    mapping(address owner => mapping(address spender => uint256)) private _allowances;

    /// @notice Wrapping by plain transfer: as deposit().
    receive() external payable {
        _deposit();
    }

    /// @inheritdoc IWrappedEther
    function deposit() external payable {
        _deposit();
    }

    /// @inheritdoc IWrappedEther
    function withdraw(uint256 amount) external {
        _withdraw(payable(msg.sender), amount);
    }

    /// @inheritdoc IWrappedEther
    function withdrawTo(address payable to, uint256 amount) external {
        if (to == address(0)) revert WrappedEtherRecipientInvalid(to);
        _withdraw(to, amount);
    }

    /// @notice Move `amount` of the caller's tokens to `to`.
    /// @dev Emits Transfer. Reverts with WrappedEtherBalanceTooLow, WrappedEtherRecipientInvalid.
    function transfer(address to, uint256 amount) external returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    /// @notice Let `spender` move up to `amount` of the caller's tokens (type(uint256).max: unlimited).
    /// @dev Emits Approval.
    function approve(address spender, uint256 amount) external returns (bool) {
        _allowances[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    /// @notice Move `amount` of `from`'s tokens to `to`, spending the caller's allowance (not when the
    ///         caller is `from`).
    /// @dev Emits Transfer. Reverts with WrappedEtherAllowanceTooLow, WrappedEtherBalanceTooLow,
    ///      WrappedEtherRecipientInvalid.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        if (from != msg.sender) {
            uint256 allowed = _allowances[from][msg.sender];
            if (allowed != type(uint256).max) {
                if (allowed < amount) revert WrappedEtherAllowanceTooLow(from, msg.sender, allowed, amount);
                unchecked {
                    _allowances[from][msg.sender] = allowed - amount;
                }
            }
        }
        _transfer(from, to, amount);
        return true;
    }

    /// @inheritdoc IWrappedEther
    function name() external pure returns (string memory) {
        return "Wrapped Ether";
    }

    /// @inheritdoc IWrappedEther
    function symbol() external pure returns (string memory) {
        return "WETH";
    }

    /// @inheritdoc IWrappedEther
    function decimals() external pure returns (uint8) {
        return 18;
    }

    /// @notice The ETH held, which equals the tokens in existence.
    function totalSupply() external view returns (uint256) {
        return address(this).balance;
    }

    /// @notice The tokens `account` holds.
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @notice How much of `owner`'s tokens `spender` may still move.
    function allowance(address owner, address spender) external view returns (uint256) {
        return _allowances[owner][spender];
    }

    function _deposit() private {
        _balances[msg.sender] += msg.value;
        emit Transfer(address(0), msg.sender, msg.value);
        emit Deposited(msg.sender, msg.value);
    }

    function _withdraw(address payable to, uint256 amount) private {
        uint256 balance = _balances[msg.sender];
        if (balance < amount) revert WrappedEtherBalanceTooLow(msg.sender, balance, amount);
        unchecked {
            _balances[msg.sender] = balance - amount;
        }
        emit Transfer(msg.sender, address(0), amount);
        emit Withdrawn(msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert WrappedEtherPayoutFailed(to, amount);
    }

    function _transfer(address from, address to, uint256 amount) private {
        if (to == address(0) || to == address(this)) revert WrappedEtherRecipientInvalid(to);
        uint256 balance = _balances[from];
        if (balance < amount) revert WrappedEtherBalanceTooLow(from, balance, amount);
        unchecked {
            _balances[from] = balance - amount;
            _balances[to] += amount;
        }
        emit Transfer(from, to, amount);
    }
}
