// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IBridgeEndpoint} from "./IBridge.sol";

/// @title IWrappedCollection
/// @notice The remote chain's ERC-721 of bridged tokens. Only its bridge mints (on arrival) and burns
///         (on departure). Each wrapped token carries its home token's rights: `tokenURI` is the home
///         URI, `royaltyInfo` answers with the home basis points and the home receiver, or, when the
///         home receiver is a royalty splitter, the remote splitter of the same split; the content hash,
///         CID, license terms hash and provenance hash are readable.
/// @dev Wrapped id = `uint256(uint160(homeCollection)) << 96 | homeTokenId`.
interface IWrappedCollection is IERC721Metadata, IERC2981 {
    /// @notice Emitted when the owner sets the bridge allowed to mint and burn.
    event BridgeUpdated(address indexed bridge);

    /// @notice The caller is not the bridge.
    error WrappedNotBridge(address caller);
    /// @notice The wrapped token exists already.
    error WrappedTokenExists(uint256 wrappedTokenId);
    /// @notice The CID is not a binary CIDv1 of 36 bytes, or the token URI does not end with a CID.
    error WrappedRightsInvalid(uint256 wrappedTokenId);

    /// @notice Mint `wrappedTokenId` to `to` with the home token's `rights`; `splitter` (zero: none) is
    ///         the remote splitter of `rights`' split, paid instead of the home receiver.
    /// @dev Only the bridge. Emits `Transfer`. No receiver callback (a recipient cannot block delivery).
    ///      Reverts with `WrappedNotBridge`, `WrappedTokenExists`, `WrappedRightsInvalid` or
    ///      `ERC721InvalidReceiver`.
    function mint(address to, uint256 wrappedTokenId, IBridgeEndpoint.Rights calldata rights, address splitter)
        external;

    /// @notice Burn `wrappedTokenId` held by `from` and return the rights it carried (the split read
    ///         back from its remote splitter).
    /// @dev Only the bridge, for the token's owner. Emits `Transfer` to zero. Reverts with
    ///      `WrappedNotBridge`, `ERC721NonexistentToken` or `ERC721IncorrectOwner`.
    function burn(address from, uint256 wrappedTokenId) external returns (IBridgeEndpoint.Rights memory rights);

    /// @notice Set the bridge. Only the owner. Emits `BridgeUpdated`.
    /// @dev Reverts with `OwnableUnauthorizedAccount`.
    function setBridge(address bridge_) external;

    /// @notice The bridge allowed to mint and burn.
    function bridge() external view returns (address);
    /// @notice The rights the wrapped token carries (token URI rendered as `tokenURI` does).
    /// @dev Reverts with `ERC721NonexistentToken`.
    function rightsOf(uint256 wrappedTokenId) external view returns (IBridgeEndpoint.Rights memory);
    /// @notice The home work's content hash. Reverts with `ERC721NonexistentToken`.
    function contentHashOf(uint256 wrappedTokenId) external view returns (bytes32);
    /// @notice The home work's binary CID. Reverts with `ERC721NonexistentToken`.
    function cidOf(uint256 wrappedTokenId) external view returns (bytes memory);
    /// @notice The license terms hash at lock time. Reverts with `ERC721NonexistentToken`.
    function licenseTermsHashOf(uint256 wrappedTokenId) external view returns (bytes32);
    /// @notice The remote splitter paid instead of the home receiver (zero: none).
    /// @dev Reverts with `ERC721NonexistentToken`.
    function royaltySplitterOf(uint256 wrappedTokenId) external view returns (address);
    /// @notice The provenance accumulator the token arrived with. Reverts with `ERC721NonexistentToken`.
    function provenanceHashOf(uint256 wrappedTokenId) external view returns (bytes32);
    /// @notice The home collection and token id of `wrappedTokenId` (pure decoding).
    function homeTokenOf(uint256 wrappedTokenId) external pure returns (address collection, uint256 tokenId);
    /// @notice The wrapped id of home token (`collection`, `tokenId`) (pure encoding).
    function wrappedIdOf(address collection, uint256 tokenId) external pure returns (uint256);
}
