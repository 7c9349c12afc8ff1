// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IRoyaltySplitter} from "../interfaces/IRoyaltySplitter.sol";

/// @title RoyaltySplitter
/// @notice Splits every payment it receives (ETH and ERC-20) among a fixed set of recipients by basis
///         points; recipients pull their share. See IRoyaltySplitter for the accounting.
/// @dev Deployed once as the implementation; each split is a clone made by SplitterFactory with the
///      split as the clone's immutable args: `recipient (20 bytes) || bps (uint16, 2 bytes)` per
///      recipient, in ascending address order, validated by the factory. The split is thus part of
///      the clone's code (no storage, no initializer that anyone could front-run).
///
///      Credits (and their per-token total) are stored as `value + 1` once written, so a withdrawal
///      leaves the slot non-zero and the next distribution rewrites a non-zero slot (2,900 gas)
///      instead of filling an empty one (20,000 gas). `_load`/`_store` hide this.
///
///      Receiving ETH emits `PaymentReceived` and touches no storage. Note: an EIP-1167 clone
///      delegatecalls its (cold) implementation, which costs more than the 2,300 gas of Solidity's
///      `transfer`/`send`; senders must forward more gas (a plain `call`).
contract RoyaltySplitter is IRoyaltySplitter, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice The token id of ETH in every function and event.
    address public constant ETH = address(0);
    /// @notice The basis points of a whole payment.
    uint256 public constant TOTAL_BPS = 10_000;

    uint256 private constant ENTRY_BYTES = 22;

    /// @dev This contract's own address, to refuse calls made on the implementation itself.
    address private immutable _self = address(this);

    /// @dev token => recipient => credit, stored + 1 (0: never credited in that token).
    mapping(address token => mapping(address recipient => uint256 creditPlusOne)) private _owed;
    /// @dev token => sum of all credits in that token, stored + 1 (0: never written).
    mapping(address token => uint256 totalPlusOne) private _totalOwed;

    modifier onlyClone() {
        if (address(this) == _self) revert SplitterNotAClone();
        _;
    }

    /// @notice Accept ETH; emits `PaymentReceived`. It is split on the next distribution.
    /// @dev Anyone may send. Reverts `SplitterNotAClone` on the implementation.
    receive() external payable onlyClone {
        emit PaymentReceived(msg.sender, msg.value);
    }

    // ------------------------------------------------------------------ writes

    /// @inheritdoc IRoyaltySplitter
    function distribute(address token) external onlyClone nonReentrant returns (uint256 amount) {
        amount = _distribute(token, _split());
        if (amount == 0) revert SplitterNothingToDistribute(token);
    }

    /// @inheritdoc IRoyaltySplitter
    function withdraw(address token) external onlyClone nonReentrant returns (uint256 amount) {
        return _withdraw(token, msg.sender, payable(msg.sender));
    }

    /// @inheritdoc IRoyaltySplitter
    function withdrawTo(address token, address payable to) external onlyClone nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert SplitterPayeeZero();
        return _withdraw(token, msg.sender, to);
    }

    /// @inheritdoc IRoyaltySplitter
    function withdrawFor(address token, address recipient) external onlyClone nonReentrant returns (uint256 amount) {
        return _withdraw(token, recipient, payable(recipient));
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IRoyaltySplitter
    function recipients() external view onlyClone returns (address[] memory accounts, uint16[] memory bps) {
        bytes memory split = _split();
        uint256 n = split.length / ENTRY_BYTES;
        accounts = new address[](n);
        bps = new uint16[](n);
        for (uint256 i = 0; i < n; ++i) {
            (address account, uint256 share) = _entry(split, i);
            accounts[i] = account;
            bps[i] = uint16(share);
        }
    }

    /// @inheritdoc IRoyaltySplitter
    function shareOf(address account) external view onlyClone returns (uint16 bps) {
        bytes memory split = _split();
        (bool found, uint256 index) = _indexOf(split, account);
        if (!found) return 0;
        (, uint256 share) = _entry(split, index);
        return uint16(share);
    }

    /// @inheritdoc IRoyaltySplitter
    function withdrawable(address token, address account) external view onlyClone returns (uint256) {
        bytes memory split = _split();
        (bool found, uint256 index) = _indexOf(split, account);
        if (!found) return 0;
        return _load(_owed[token][account]) + _partOf(split, index, _undistributed(token));
    }

    /// @inheritdoc IRoyaltySplitter
    function undistributed(address token) external view onlyClone returns (uint256) {
        return _undistributed(token);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Credits every recipient its part of what is undistributed; returns the amount (0: nothing).
    function _distribute(address token, bytes memory split) private returns (uint256 amount) {
        uint256 owedTotal = _load(_totalOwed[token]);
        uint256 held = _held(token);
        if (held <= owedTotal) return 0; // a token whose balance shrank below the credits: nothing new
        amount = held - owedTotal;
        uint256 n = split.length / ENTRY_BYTES;
        uint256 rest = amount;
        for (uint256 i = 1; i < n; ++i) {
            (address account, uint256 share) = _entry(split, i);
            uint256 part = Math.mulDiv(amount, share, TOTAL_BPS);
            rest -= part;
            _credit(token, account, part);
        }
        (address first,) = _entry(split, 0);
        _credit(token, first, rest); // its own share plus the rounding remainder
        _store(_totalOwed, token, owedTotal + amount);
        emit Distributed(token, amount, msg.sender);
    }

    function _withdraw(address token, address account, address payable to) private returns (uint256 amount) {
        bytes memory split = _split();
        (bool found,) = _indexOf(split, account);
        if (!found) revert SplitterNotRecipient(account);
        _distribute(token, split);
        amount = _load(_owed[token][account]);
        if (amount == 0) revert SplitterNothingToWithdraw(account, token);
        _store(_owed[token], account, 0);
        _store(_totalOwed, token, _load(_totalOwed[token]) - amount);
        emit Withdrawn(account, token, amount, to);
        _pay(token, to, amount);
    }

    /// @dev Sends `amount` of `token` to `to`; for ERC-20 checks the splitter lost no more than `amount`.
    function _pay(address token, address payable to, uint256 amount) private {
        if (token == ETH) {
            bool ok;
            assembly ("memory-safe") {
                ok := call(gas(), to, amount, 0, 0, 0, 0) // no returndata copy
            }
            if (!ok) revert SplitterEthTransferFailed(to, amount);
            return;
        }
        IERC20 erc20 = IERC20(token);
        uint256 before = erc20.balanceOf(address(this));
        if (amount > before) revert SplitterTokenBalanceTooLow(token, amount, before);
        erc20.safeTransfer(to, amount);
        uint256 afterwards = erc20.balanceOf(address(this));
        if (afterwards < before && before - afterwards > amount) {
            revert SplitterTokenMisbehaved(token, amount, before - afterwards);
        }
    }

    function _credit(address token, address account, uint256 part) private {
        if (part == 0) return;
        mapping(address => uint256) storage owed = _owed[token];
        _store(owed, account, _load(owed[account]) + part);
    }

    /// @dev The value of a slot stored as `value + 1` (0 means never written, i.e. value 0).
    function _load(uint256 raw) private pure returns (uint256) {
        return raw == 0 ? 0 : raw - 1;
    }

    function _store(mapping(address => uint256) storage slots, address key, uint256 value) private {
        slots[key] = value + 1;
    }

    function _held(address token) private view returns (uint256) {
        return token == ETH ? address(this).balance : IERC20(token).balanceOf(address(this));
    }

    function _undistributed(address token) private view returns (uint256) {
        uint256 held = _held(token);
        uint256 owedTotal = _load(_totalOwed[token]);
        return held > owedTotal ? held - owedTotal : 0;
    }

    /// @dev The part of `amount` that a distribution credits to the recipient at `index`.
    function _partOf(bytes memory split, uint256 index, uint256 amount) private pure returns (uint256) {
        if (amount == 0) return 0;
        if (index != 0) {
            (, uint256 share) = _entry(split, index);
            return Math.mulDiv(amount, share, TOTAL_BPS);
        }
        uint256 rest = amount;
        uint256 n = split.length / ENTRY_BYTES;
        for (uint256 i = 1; i < n; ++i) {
            (, uint256 share) = _entry(split, i);
            rest -= Math.mulDiv(amount, share, TOTAL_BPS);
        }
        return rest;
    }

    function _split() private view returns (bytes memory) {
        return Clones.fetchCloneArgs(address(this));
    }

    function _indexOf(bytes memory split, address account) private pure returns (bool found, uint256 index) {
        uint256 n = split.length / ENTRY_BYTES;
        for (uint256 i = 0; i < n; ++i) {
            (address candidate,) = _entry(split, i);
            if (candidate == account) return (true, i);
        }
        return (false, 0);
    }

    /// @dev The recipient and basis points at `index` of the packed split.
    function _entry(bytes memory split, uint256 index) private pure returns (address account, uint256 bps) {
        assembly ("memory-safe") {
            let word := mload(add(add(split, 0x20), mul(index, 22)))
            account := shr(96, word)
            bps := and(shr(80, word), 0xffff)
        }
    }
}
