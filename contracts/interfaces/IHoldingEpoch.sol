// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IHoldingEpoch
/// @notice What a collection exposes so that a signed listing dies when its token leaves the seller.
/// @dev The marketplace binds every listing to `holdingEpoch(seller, tokenId)` at signing and fills
///      it only while the value is unchanged. The value must change every time `holder` receives
///      token `id` (so a token that left and came back has a new epoch) and must not change while
///      `holder` keeps it. ERC-721 (CreatorCollection): the token's transfer count. ERC-1155
///      (Editions1155): how many times `holder` has received units of `id` (mints included); units
///      leaving the holder do not change it, so one listing fills in parts and several listings of
///      one id coexist, while units that leave and come back (or any new receipt) end every listing.
interface IHoldingEpoch {
    /// @notice The holding epoch of `holder` for token `id` (see the interface's notes).
    function holdingEpoch(address holder, uint256 id) external view returns (uint256);
}
