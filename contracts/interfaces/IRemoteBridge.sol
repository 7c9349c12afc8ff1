// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBridgeEndpoint} from "./IBridge.sol";

/// @title IRemoteBridge
/// @notice The remote end of the bridge: mints the wrapped token when a signed lock message arrives
///         (`deliver`) and burns it when its owner sends it home (`burnToHome`).
/// @dev The wrapped token of home token (`collection`, `tokenId`) has the id
///      `uint256(uint160(collection)) << 96 | tokenId` in the WrappedCollection, so the same token
///      always comes back under the same id.
interface IRemoteBridge is IBridgeEndpoint {
    /// @notice Emitted when a lock message minted `wrappedTokenId` to `recipient`.
    event TokenMinted(
        uint256 indexed transferId,
        address indexed collection,
        uint256 indexed tokenId,
        uint256 wrappedTokenId,
        address recipient
    );
    /// @notice Emitted when the owner burned `wrappedTokenId` to send home token (`collection`,
    ///         `tokenId`) to `recipient` on `destChainId`; `rights` is what the return message carries.
    event TokenBurned(
        uint256 indexed transferId,
        address indexed collection,
        uint256 indexed tokenId,
        address sender,
        address recipient,
        uint256 destChainId,
        uint256 wrappedTokenId,
        Rights rights
    );

    /// @notice The wrapped collection address cannot be zero.
    error RemoteWrappedZero();
    /// @notice The message carries a royalty split but no SplitterFactory is set (the admin sets it
    ///         with `setSplitterFactory`; the delivery can then be retried).
    error RemoteSplitterFactoryNotSet();
    /// @notice Wrapped ids keep the home token id in 96 bits.
    error RemoteTokenIdTooLarge(uint256 tokenId);
    /// @notice Only the wrapped token's owner may send it home.
    error RemoteNotTokenOwner(address caller, uint256 wrappedTokenId);

    /// @notice Burn wrapped token `wrappedTokenId` and send the home token to `recipient` on the home chain.
    /// @dev Only the wrapped token's owner; not while paused. Extends the provenance (see IHomeLockbox)
    ///      and emits `TokenBurned` with the rights the token carried. Reverts with `BridgePaused`,
    ///      `BridgePeerNotSet`, `BridgeRecipientZero`, `BridgeSenderRateLimitExceeded`,
    ///      `BridgeCollectionRateLimitExceeded` (the home collection's budget), `BridgeRateLimitExceeded` (outbound),
    ///      `RemoteNotTokenOwner` and `ERC721NonexistentToken`.
    /// @return transferId The transfer's id (see IBridgeEndpoint).
    function burnToHome(uint256 wrappedTokenId, address recipient) external returns (uint256 transferId);

    /// @notice The wrapped collection this bridge mints and burns.
    function wrapped() external view returns (address);

    /// @notice Emitted when the admin sets the SplitterFactory of remote splitters.
    event SplitterFactoryUpdated(address indexed factory);

    /// @notice Set the SplitterFactory that creates the remote splitter of a token arriving with a
    ///         royalty split. Only the admin. Emits `SplitterFactoryUpdated`.
    function setSplitterFactory(address factory) external;

    /// @notice The SplitterFactory of remote splitters (zero: none).
    function splitterFactory() external view returns (address);
}
