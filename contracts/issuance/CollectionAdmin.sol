// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICollectionAdmin} from "../interfaces/ICollectionAdmin.sol";

/// @title CollectionAdmin
/// @notice The owner, the minters and the pause of a creator's collection, shared by
///         CreatorCollection (ERC-721) and Editions1155 (ERC-1155).
/// @dev Storage: `_owner` and `_paused` open the collection's hot slot, which every mint and
///      transfer reads; the child declares its own small fields (next id, flags) right after them
///      so that they pack into the same slot. The minter set lives in ERC-7201 namespaced storage
///      (`chainright.storage.CollectionAdmin`) so that it does not end that slot. Inherit this
///      contract last among the bases that have storage.
///
///      Override rules. A child MUST implement `_revertAdmin(failure, account)`, reverting with
///      its own error for each `AdminFailure` (its interface names them), and set `_owner` (and
///      emit `OwnershipTransferred(address(0), owner)`) in its initializer. It checks `_paused`
///      itself wherever its pause applies, and may use `onlyOwner`, `onlyMinter`, `_isMinter`.
abstract contract CollectionAdmin is ICollectionAdmin {
    /// @dev Why an admin call failed; the child turns it into its own error.
    enum AdminFailure {
        NotOwner,
        NotMinter,
        InvalidOwner,
        Paused,
        NotPaused
    }

    address internal _owner;
    bool internal _paused;

    /// @custom:storage-location erc7201:chainright.storage.CollectionAdmin
    struct CollectionAdminStorage {
        mapping(address account => bool allowed) minters;
    }

    // keccak256(abi.encode(uint256(keccak256("chainright.storage.CollectionAdmin")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _ADMIN_SLOT = 0x05b90395e2c5f6baec2dd0b1545e403bf3ff9312ea6b03dd25ee827dc5875900;

    modifier onlyOwner() {
        if (msg.sender != _owner) _revertAdmin(AdminFailure.NotOwner, msg.sender);
        _;
    }

    modifier onlyMinter() {
        if (msg.sender != _owner && !_isMinter(msg.sender)) _revertAdmin(AdminFailure.NotMinter, msg.sender);
        _;
    }

    /// @inheritdoc ICollectionAdmin
    function setMinter(address account, bool allowed) external onlyOwner {
        _adminStorage().minters[account] = allowed;
        emit MinterUpdated(account, allowed);
    }

    /// @inheritdoc ICollectionAdmin
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) _revertAdmin(AdminFailure.InvalidOwner, address(0));
        address previous = _owner;
        _owner = newOwner;
        emit OwnershipTransferred(previous, newOwner);
    }

    /// @inheritdoc ICollectionAdmin
    function pause() external onlyOwner {
        if (_paused) _revertAdmin(AdminFailure.Paused, address(0));
        _paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc ICollectionAdmin
    function unpause() external onlyOwner {
        if (!_paused) _revertAdmin(AdminFailure.NotPaused, address(0));
        _paused = false;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc ICollectionAdmin
    function owner() external view returns (address) {
        return _owner;
    }

    /// @inheritdoc ICollectionAdmin
    function isMinter(address account) external view returns (bool) {
        return _isMinter(account);
    }

    /// @inheritdoc ICollectionAdmin
    function paused() external view returns (bool) {
        return _paused;
    }

    function _isMinter(address account) internal view returns (bool) {
        return _adminStorage().minters[account];
    }

    /// @dev Revert with the child's error for `failure` (`account`: the caller or the rejected owner).
    function _revertAdmin(AdminFailure failure, address account) internal pure virtual;

    function _adminStorage() private pure returns (CollectionAdminStorage storage $) {
        assembly {
            $.slot := _ADMIN_SLOT
        }
    }
}
