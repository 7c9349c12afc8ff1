// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestLyingERC20 (TEST HELPER)
/// @notice An ERC-20 that misbehaves on demand, to test that splitters never pay out more than they hold:
///         - `lie`: `balanceOf(account)` reports `realBalanceOf(account) + lie[account]`;
///         - `feeBps`: a fee-on-transfer, burned from what the recipient gets;
///         - `skim`: every transfer also burns `skim` extra tokens from the sender;
///         - `returnFalse`: `transfer` returns false without moving anything.
contract TestLyingERC20 is ERC20 {
    mapping(address account => uint256 extra) public lie;
    uint256 public feeBps;
    uint256 public skim;
    bool public returnFalse;

    constructor() ERC20("Lying Token", "LIE") {}

    /// @notice Mint `amount` to `to` (anyone; test helper).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Make `balanceOf(account)` report `extra` more than it holds.
    function setLie(address account, uint256 extra) external {
        lie[account] = extra;
    }

    /// @notice Burn `bps` of every transfer from what the recipient gets.
    function setFeeBps(uint256 bps) external {
        feeBps = bps;
    }

    /// @notice Burn `amount` extra from the sender on every transfer.
    function setSkim(uint256 amount) external {
        skim = amount;
    }

    /// @notice Make `transfer` return false without moving anything.
    function setReturnFalse(bool value) external {
        returnFalse = value;
    }

    /// @notice The true balance of `account`, without the lie.
    function realBalanceOf(address account) external view returns (uint256) {
        return super.balanceOf(account);
    }

    /// @notice The balance of `account` plus its lie.
    function balanceOf(address account) public view override returns (uint256) {
        return super.balanceOf(account) + lie[account];
    }

    /// @notice Transfer, misbehaving as configured.
    function transfer(address to, uint256 amount) public override returns (bool) {
        if (returnFalse) return false;
        uint256 fee = amount * feeBps / 10_000;
        if (fee != 0) _burn(msg.sender, fee);
        if (skim != 0) _burn(msg.sender, skim);
        _transfer(msg.sender, to, amount - fee);
        return true;
    }
}
