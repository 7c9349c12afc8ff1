// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ICollectionAdmin
/// @notice The owner, minters and pause that a creator's collections share (ICreatorCollection,
///         IEditions1155). Each collection reverts with its own errors (`Collection*` or
///         `Editions*`: NotOwner, NotMinter, InvalidOwner, Paused, NotPaused) and says what its
///         pause blocks.
interface ICollectionAdmin {
    /// @notice Emitted when ownership changes (from zero at initialization).
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    /// @notice Emitted when the owner grants (`allowed`) or revokes the minter role of `account`.
    event MinterUpdated(address indexed account, bool allowed);
    /// @notice Emitted when the owner pauses the collection (minting and transfers; rentals too in
    ///         a CreatorCollection).
    event Paused(address account);
    /// @notice Emitted when the owner lifts the pause.
    event Unpaused(address account);

    /// @notice Grant (`allowed`) or revoke the minter role. Only the owner; emits `MinterUpdated`.
    /// @dev Reverts with the collection's NotOwner error.
    function setMinter(address account, bool allowed) external;

    /// @notice Transfer ownership. Only the owner; emits `OwnershipTransferred`.
    /// @dev Reverts with the collection's NotOwner or InvalidOwner (zero address) error.
    function transferOwnership(address newOwner) external;

    /// @notice Pause minting and transfers (and, in a CreatorCollection, rentals). Only the owner;
    ///         emits `Paused`.
    /// @dev Reverts with the collection's NotOwner or Paused (already paused) error.
    function pause() external;

    /// @notice Lift the pause. Only the owner; emits `Unpaused`.
    /// @dev Reverts with the collection's NotOwner or NotPaused error.
    function unpause() external;

    /// @notice The owner.
    function owner() external view returns (address);
    /// @notice True when `account` holds the minter role (the owner may mint without it).
    function isMinter(address account) external view returns (bool);
    /// @notice True while paused.
    function paused() external view returns (bool);
}
