// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title MktTestActor (test helper, adversary)
/// @notice A contract account for the marketplace's attack tests: a smart wallet that signs
///         orders by EIP-1271 (its owner's ECDSA signature), trades through `execute`, and reacts
///         to incoming ETH and tokens as configured: accept, revert, burn all gas, or re-enter a
///         target (swallowing the failure, or bubbling it up). Never deployed by the platform.
contract MktTestActor is IERC1271, IERC721Receiver, IERC1155Receiver {
    enum Mode {
        Accept,
        Revert,
        BurnGas,
        Reenter, // try the re-entry, record the outcome, carry on
        ReenterBubble // try the re-entry and revert with its error if it fails
    }

    error MktActorRejected();
    error MktActorNotOwner(address caller);

    address public immutable owner;
    Mode public ethMode;
    Mode public tokenMode;
    address public reentryTarget;
    uint256 public reentryValue;
    bytes public reentryData;

    // One slot, kept warm (non-zero) so that recording stays cheap inside an ETH stipend.
    uint64 public reentryAttempts;
    uint64 public reentrySuccesses;
    bytes4 public lastReentryError;
    uint64 private _warm = 1;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Configure the reactions to ETH and to tokens, and what a re-entry calls.
    function configure(Mode eth, Mode token, address target, bytes calldata data, uint256 value) external {
        ethMode = eth;
        tokenMode = token;
        reentryTarget = target;
        reentryData = data;
        reentryValue = value;
    }

    /// @notice Make a call as this wallet (only the owner); bubbles up a revert.
    function execute(address target, uint256 value, bytes calldata data) external payable returns (bytes memory) {
        if (msg.sender != owner) revert MktActorNotOwner(msg.sender);
        (bool ok, bytes memory ret) = target.call{value: value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    /// @notice EIP-1271: valid when the owner signed `hash`.
    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }

    receive() external payable {
        _react(ethMode);
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        _react(tokenMode);
        return IERC721Receiver.onERC721Received.selector;
    }

    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external returns (bytes4) {
        _react(tokenMode);
        return IERC1155Receiver.onERC1155Received.selector;
    }

    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        returns (bytes4)
    {
        _react(tokenMode);
        return IERC1155Receiver.onERC1155BatchReceived.selector;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC1155Receiver).interfaceId || interfaceId == type(IERC165).interfaceId;
    }

    function _react(Mode mode) internal {
        if (mode == Mode.Accept) return;
        if (mode == Mode.Revert) revert MktActorRejected();
        if (mode == Mode.BurnGas) {
            assembly {
                invalid()
            }
        }
        reentryAttempts += 1;
        (bool ok, bytes memory ret) = reentryTarget.call{value: reentryValue}(reentryData);
        if (ok) {
            reentrySuccesses += 1;
            return;
        }
        lastReentryError = bytes4(ret);
        if (mode == Mode.ReenterBubble) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
