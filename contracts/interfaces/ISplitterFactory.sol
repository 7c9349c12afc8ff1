// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ISplitterFactory
/// @notice Creates royalty splitters as clones (EIP-1167 with immutable args) at deterministic
///         addresses. A split is `recipients` in strictly ascending address order (so each set of
///         recipients has one canonical form) with non-zero basis points summing to 10000.
/// @dev The address depends on the implementation, the factory, the split and the salt (the split is
///      part of the clone's code), never on the caller: the same inputs give the same address, and
///      creating an existing split returns it without deploying or emitting anything.
interface ISplitterFactory {
    // ---------------------------------------------------------------- errors

    /// @notice The implementation address has no code.
    error SplitterFactoryImplementationHasNoCode(address implementation);
    /// @notice A split needs at least one recipient.
    error SplitNoRecipients();
    /// @notice A split has `count` recipients, more than `max`.
    error SplitTooManyRecipients(uint256 count, uint256 max);
    /// @notice `recipients` and `bps` differ in length.
    error SplitLengthMismatch(uint256 recipients, uint256 shares);
    /// @notice The recipient at `index` is the zero address.
    error SplitRecipientZero(uint256 index);
    /// @notice The recipient at `index` is not greater than the one before (unsorted or duplicate).
    error SplitRecipientsNotAscending(uint256 index);
    /// @notice The share at `index` is zero.
    error SplitShareZero(uint256 index);
    /// @notice The shares sum to `total`, not 10000.
    error SplitSharesTotalWrong(uint256 total);

    // ---------------------------------------------------------------- events

    /// @notice A splitter was created at `splitter` by `creator` for this split and `salt`.
    event SplitterCreated(
        address indexed splitter, address indexed creator, bytes32 indexed salt, address[] recipients, uint16[] bps
    );

    // ---------------------------------------------------------------- writes

    /// @notice Create the splitter for `recipients`/`bps` and `salt`, or return it when it exists.
    /// @dev Anyone may call. Emits `SplitterCreated` when it deploys. Reverts on an invalid split
    ///      (`SplitNoRecipients`, `SplitTooManyRecipients`, `SplitLengthMismatch`, `SplitRecipientZero`,
    ///      `SplitRecipientsNotAscending`, `SplitShareZero`, `SplitSharesTotalWrong`).
    /// @return splitter The splitter's address (equal to `predictSplitterAddress` of the same inputs).
    function createSplitter(address[] calldata recipients, uint16[] calldata bps, bytes32 salt)
        external
        returns (address splitter);

    /// @notice Create (or return) the three-level split: rights holder 30%, issuer 40%, channel 30%.
    /// @dev Anyone may call. Roles held by the same address are merged (e.g. a creator who is both
    ///      rights holder and issuer gets 70%); the recipients are then sorted. Emits and reverts as
    ///      `createSplitter` (`SplitRecipientZero` when a role is the zero address).
    /// @return splitter The splitter's address.
    function createThreeWaySplit(address rightsHolder, address issuer, address channel, bytes32 salt)
        external
        returns (address splitter);

    // ---------------------------------------------------------------- views

    /// @notice The address the splitter for `recipients`/`bps` and `salt` has or will have.
    /// @dev Reverts on an invalid split, as `createSplitter`.
    function predictSplitterAddress(address[] calldata recipients, uint16[] calldata bps, bytes32 salt)
        external
        view
        returns (address);

    /// @notice The address of the three-level split of these roles and `salt`.
    function predictThreeWaySplitAddress(address rightsHolder, address issuer, address channel, bytes32 salt)
        external
        view
        returns (address);

    /// @notice The canonical split (merged, sorted) of the three-level preset for these roles.
    function threeWaySplit(address rightsHolder, address issuer, address channel)
        external
        pure
        returns (address[] memory recipients, uint16[] memory bps);

    /// @notice The RoyaltySplitter implementation every clone delegates to.
    function implementation() external view returns (address);
}
