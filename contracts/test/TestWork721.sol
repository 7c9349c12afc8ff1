// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";

/// @title TestWork721 (TEST HELPER, never deployed by the plan)
/// @notice A minimal ERC-721 + ERC-2981 collection for licensing tests: anyone mints, anyone sets
///         royalties, and `royaltyInfo` can be made to revert. Stands in for the issuance family's
///         collection.
contract TestWork721 is ERC721, ERC2981 {
    error TestWorkRoyaltyBroken();

    bool public royaltyBroken;

    constructor() ERC721("Test Work", "TWORK") {}

    /// @notice Mint `tokenId` to `to` (anyone; test helper).
    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }

    /// @notice Burn `tokenId` (anyone; test helper).
    function burn(uint256 tokenId) external {
        _burn(tokenId);
    }

    /// @notice Set the ERC-2981 receiver and fraction of `tokenId` (anyone; test helper).
    function setTokenRoyalty(uint256 tokenId, address receiver, uint96 feeNumerator) external {
        _setTokenRoyalty(tokenId, receiver, feeNumerator);
    }

    /// @notice Set the default ERC-2981 receiver and fraction (anyone; test helper).
    function setDefaultRoyalty(address receiver, uint96 feeNumerator) external {
        _setDefaultRoyalty(receiver, feeNumerator);
    }

    /// @notice Make `royaltyInfo` revert with TestWorkRoyaltyBroken (anyone; test helper).
    function setRoyaltyBroken(bool broken) external {
        royaltyBroken = broken;
    }

    /// @notice ERC-2981 royalty info; reverts TestWorkRoyaltyBroken when broken.
    function royaltyInfo(uint256 tokenId, uint256 salePrice) public view override returns (address, uint256) {
        if (royaltyBroken) revert TestWorkRoyaltyBroken();
        return super.royaltyInfo(tokenId, salePrice);
    }

    /// @notice ERC-165: ERC-721 and ERC-2981.
    function supportsInterface(bytes4 id) public view override(ERC721, ERC2981) returns (bool) {
        return super.supportsInterface(id);
    }
}
