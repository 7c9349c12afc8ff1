// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IERC4907
/// @notice ERC-4907 rental NFTs: a time-limited "user" role next to the owner (interface id 0xad092b5c).
interface IERC4907 {
    /// @notice Emitted when the user of `tokenId` or its expiry changes (user zero: cleared).
    event UpdateUser(uint256 indexed tokenId, address indexed user, uint64 expires);

    /// @notice Set the user of `tokenId` until `expires` (a unix time). Owner or approved only.
    function setUser(uint256 tokenId, address user, uint64 expires) external;

    /// @notice The current user of `tokenId`, or zero when none or expired.
    function userOf(uint256 tokenId) external view returns (address);

    /// @notice The expiry of the current user of `tokenId` (zero when none).
    function userExpires(uint256 tokenId) external view returns (uint256);
}
