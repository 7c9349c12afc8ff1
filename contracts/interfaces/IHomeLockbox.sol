// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBridgeEndpoint} from "./IBridge.sol";

/// @title IHomeLockbox
/// @notice The home end of the bridge: takes custody of a token of a factory-made collection and
///         announces it (`TokenLocked`), and releases it when a signed return message arrives (`deliver`).
/// @dev Only tokens whose rights record in the RightsRegistry names their collection and work can be
///      locked, so only collections made by an allowed factory cross the bridge. The lockbox emits
///      `TokenLocked` only after `transferFrom` returned and it holds the token.
///
///      Provenance: every departure extends a per-token accumulator (`previous` is zero before the
///      first hop; collection and token id are the home ones on both chains):
///      - a lock on home: `next = keccak256(abi.encode(previous, block.chainid, collection, tokenId,
///        from, block.number, homeState))` with `homeState = keccak256(abi.encode(blockhash(block.number
///        - 1), contentHash, record.creator, record.tokenId, record.registeredAt))` (`record` is the
///        content hash's RightsRegistry record at the lock). The block hash commits to the
///        home chain's whole state before the lock's block, so the token's home history up to the lock
///        (mint, sales, licences, registry record) can be proven against it with state proofs;
///      - a burn on remote: `next = keccak256(abi.encode(previous, block.chainid, collection, tokenId,
///        from, block.number))`.
///      The lockbox keeps the latest value (`provenanceOf`), sends it with the token, and stores the
///      value the return message brings, so the wrapped token carries a commitment to its home history
///      at every lock and to every bridge hop since the first.
interface IHomeLockbox is IBridgeEndpoint {
    /// @notice Emitted when the lockbox took custody of `tokenId` of `collection` for `recipient` on
    ///         `destChainId` (after the transfer, with the token held).
    event TokenLocked(
        uint256 indexed transferId,
        address indexed collection,
        uint256 indexed tokenId,
        address sender,
        address recipient,
        uint256 destChainId,
        Rights rights
    );
    /// @notice Emitted when a return message released `tokenId` of `collection` to `recipient`.
    event TokenUnlocked(
        uint256 indexed transferId,
        address indexed collection,
        uint256 indexed tokenId,
        address recipient,
        bytes32 provenanceHash
    );
    /// @notice Emitted when the admin sets the licensing contract (zero: none).
    event LicensingUpdated(address indexed licensing);
    /// @notice Emitted when the admin sets the RoyaltySplitter implementation whose clones travel with
    ///         their split (zero: none).
    event SplitterImplementationUpdated(address indexed implementation);

    /// @notice Only the token's owner may lock it.
    error LockboxNotTokenOwner(address caller, address owner);
    /// @notice The content hash's rights record does not name this collection and the token's work.
    error LockboxRightsMismatch(bytes32 contentHash, address collection, uint256 tokenId);
    /// @notice The token URI does not end with the work's CID in base32.
    error LockboxTokenUriUnsupported(string tokenURI);
    /// @notice Wrapped ids keep the home token id in 96 bits.
    error LockboxTokenIdTooLarge(uint256 tokenId);
    /// @notice The royalty is above 100%.
    error LockboxRoyaltyUnsupported(uint256 bps);
    /// @notice After the transfer the lockbox does not hold the token.
    error LockboxCustodyNotTaken(address collection, uint256 tokenId);
    /// @notice The return message is for a token the lockbox does not hold in bridge custody.
    error LockboxNotLocked(address collection, uint256 tokenId);
    /// @notice The return message's rights differ from those the token left with.
    error LockboxRightsChanged(address collection, uint256 tokenId);
    /// @notice The registry address cannot be zero.
    error LockboxRegistryZero();

    /// @notice Lock `tokenId` of `collection` and send it to `recipient` on `destChainId`.
    /// @dev Only the token's owner, who approved the lockbox first; not while paused. Verifies the
    ///      rights on chain: `contentHash`'s record in the RightsRegistry must name `collection` and the
    ///      token's work (`workOf`); reads the CID, `tokenURI` (must end with the CID), `royaltyInfo(
    ///      tokenId, 10000)` and the license terms; extends the provenance. Emits `TokenLocked` after
    ///      the transfer. Reverts with `BridgePaused`, `BridgePeerNotSet`, `BridgeDestinationUnsupported`,
    ///      `BridgeRecipientZero`, `BridgeSenderRateLimitExceeded`, `BridgeCollectionRateLimitExceeded`,
    ///      `BridgeRateLimitExceeded` (outbound), `LockboxTokenIdTooLarge`,
    ///      `LockboxNotTokenOwner`, `LockboxRightsMismatch`, `LockboxTokenUriUnsupported`,
    ///      `LockboxRoyaltyUnsupported`, `LockboxCustodyNotTaken` and the collection's transfer errors.
    /// @return transferId The transfer's id (see IBridgeEndpoint).
    function lock(address collection, uint256 tokenId, address recipient, uint256 destChainId, bytes32 contentHash)
        external
        returns (uint256 transferId);

    /// @notice Set the licensing contract whose `attachedTerms` the lockbox hashes (zero: none).
    /// @dev Only the admin. Emits `LicensingUpdated`. Reverts with `AccessControlUnauthorizedAccount`.
    function setLicensing(address licensing_) external;

    /// @notice Set the RoyaltySplitter implementation: a royalty receiver whose code is a clone of it
    ///         sends its split (recipients, bps) with the token (zero: no split travels).
    /// @dev Only the admin. Emits `SplitterImplementationUpdated`.
    function setSplitterImplementation(address implementation) external;

    /// @notice The RoyaltySplitter implementation whose clones travel with their split (zero: none).
    function splitterImplementation() external view returns (address);
    /// @notice The RightsRegistry the lockbox verifies against.
    function rightsRegistry() external view returns (address);
    /// @notice The licensing contract (zero: none).
    function licensing() external view returns (address);
    /// @notice The token's latest provenance accumulator (zero before its first hop).
    function provenanceOf(address collection, uint256 tokenId) external view returns (bytes32);
    /// @notice True while the lockbox holds `tokenId` of `collection` for the bridge.
    function isLocked(address collection, uint256 tokenId) external view returns (bool);
    /// @notice The license terms hash the lockbox would send for the token now.
    function licenseTermsHashOf(address collection, uint256 tokenId) external view returns (bytes32);
}
