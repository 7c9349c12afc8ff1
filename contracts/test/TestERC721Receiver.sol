// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {ICreatorCollection} from "../interfaces/ICreatorCollection.sol";

/// @title TestERC721Receiver (TEST HELPER, never deployed by the plan)
/// @notice An ERC-721 recipient whose behaviour a test chooses: accept, reject (wrong return value),
///         revert with a custom error or without data, or re-enter the collection while receiving
///         (forward the token, or mint another work when it holds the minter role).
contract TestERC721Receiver is IERC721Receiver {
    enum Mode {
        Accept,
        ReturnWrongValue,
        RevertWithError,
        RevertEmpty,
        ReenterTransfer,
        ReenterMint
    }

    /// @notice The custom error of `Mode.RevertWithError`.
    error TestReceiverRejected(uint256 tokenId);

    /// @notice Emitted for each token received, with what `ownerOf` said at that moment.
    event Received(address operator, address from, uint256 tokenId, address ownerAtReceipt);

    Mode public mode;
    address public forwardTo;
    bytes32 public reentryHash;
    bytes public reentryCid;
    uint256 public reentries;
    uint256[] public received;

    /// @notice Choose the behaviour; `forwardTo` for ReenterTransfer, hash and CID for ReenterMint.
    function configure(Mode mode_, address forwardTo_, bytes32 reentryHash_, bytes calldata reentryCid_) external {
        mode = mode_;
        forwardTo = forwardTo_;
        reentryHash = reentryHash_;
        reentryCid = reentryCid_;
    }

    /// @notice How many tokens this receiver accepted.
    function receivedCount() external view returns (uint256) {
        return received.length;
    }

    /// @inheritdoc IERC721Receiver
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata)
        external
        returns (bytes4)
    {
        ICreatorCollection collection = ICreatorCollection(msg.sender);
        if (mode == Mode.ReturnWrongValue) return bytes4(0xdeadbeef);
        if (mode == Mode.RevertWithError) revert TestReceiverRejected(tokenId);
        if (mode == Mode.RevertEmpty) revert();
        received.push(tokenId);
        emit Received(operator, from, tokenId, collection.ownerOf(tokenId));
        if (mode == Mode.ReenterTransfer) {
            collection.transferFrom(address(this), forwardTo, tokenId);
        } else if (mode == Mode.ReenterMint && reentries == 0) {
            reentries = 1;
            collection.mintWork(address(this), reentryHash, reentryCid);
        }
        return IERC721Receiver.onERC721Received.selector;
    }
}
