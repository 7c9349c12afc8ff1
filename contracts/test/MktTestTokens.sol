// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";

// Test helpers for the marketplace family: tokens with open minting. Never deployed by the platform.

/// @title MktTestERC721 (test helper)
/// @notice ERC-721 + ERC-2981 with open mint and royalty setters.
contract MktTestERC721 is ERC721, ERC2981 {
    mapping(uint256 tokenId => uint256 count) private _transfers;

    constructor() ERC721("Mkt Test 721", "MKT721") {}

    /// @notice IHoldingEpoch: the token's transfer count (mints included).
    function holdingEpoch(address, uint256 tokenId) external view returns (uint256) {
        return _transfers[tokenId];
    }

    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        ++_transfers[tokenId];
        return super._update(to, tokenId, auth);
    }

    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }

    function setDefaultRoyalty(address receiver, uint96 bps) external {
        _setDefaultRoyalty(receiver, bps);
    }

    function setTokenRoyalty(uint256 tokenId, address receiver, uint96 bps) external {
        _setTokenRoyalty(tokenId, receiver, bps);
    }

    function supportsInterface(bytes4 id) public view override(ERC721, ERC2981) returns (bool) {
        return super.supportsInterface(id);
    }
}

/// @title MktTestPlainERC721 (test helper)
/// @notice ERC-721 without ERC-2981: sales of it pay no royalty.
contract MktTestPlainERC721 is ERC721 {
    mapping(uint256 tokenId => uint256 count) private _transfers;

    constructor() ERC721("Mkt Test Plain", "MKTP") {}

    /// @notice IHoldingEpoch: the token's transfer count (mints included).
    function holdingEpoch(address, uint256 tokenId) external view returns (uint256) {
        return _transfers[tokenId];
    }

    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        ++_transfers[tokenId];
        return super._update(to, tokenId, auth);
    }

    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}

/// @title MktTestERC1155 (test helper)
/// @notice ERC-1155 + ERC-2981 with open mint and a default royalty setter.
contract MktTestERC1155 is ERC1155, ERC2981 {
    mapping(uint256 id => mapping(address holder => uint256 count)) private _receipts;

    constructor() ERC1155("ipfs://test/{id}") {}

    /// @notice IHoldingEpoch: how many times `holder` received units of `id`.
    function holdingEpoch(address holder, uint256 id) external view returns (uint256) {
        return _receipts[id][holder];
    }

    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        if (to != address(0)) {
            for (uint256 i = 0; i < ids.length; ++i) {
                ++_receipts[ids[i]][to];
            }
        }
        super._update(from, to, ids, values);
    }

    function mint(address to, uint256 id, uint256 amount) external {
        _mint(to, id, amount, "");
    }

    function setDefaultRoyalty(address receiver, uint96 bps) external {
        _setDefaultRoyalty(receiver, bps);
    }

    function supportsInterface(bytes4 id) public view override(ERC1155, ERC2981) returns (bool) {
        return super.supportsInterface(id);
    }
}

/// @title MktTestERC20 (test helper)
/// @notice ERC-20 with open mint; transfers to a blocked address revert (like a stablecoin blocklist).
contract MktTestERC20 is ERC20 {
    error MktTestBlocked(address account);

    mapping(address => bool) public blocked;

    constructor() ERC20("Mkt Test Coin", "MKTC") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBlocked(address account, bool value) external {
        blocked[account] = value;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked[to]) revert MktTestBlocked(to);
        super._update(from, to, value);
    }
}

/// @title MktTestLyingERC20 (test helper, adversary)
/// @notice Reports success for transfer and transferFrom but moves nothing.
contract MktTestLyingERC20 is ERC20 {
    constructor() ERC20("Mkt Lying Coin", "LIE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function transfer(address, uint256) public pure override returns (bool) {
        return true;
    }

    function transferFrom(address, address, uint256) public pure override returns (bool) {
        return true;
    }
}

/// @title MktTestFeeERC20 (test helper, adversary)
/// @notice Takes 1% of every transfer (burned): recipients get less than the amount sent.
contract MktTestFeeERC20 is ERC20 {
    constructor() ERC20("Mkt Fee Coin", "FEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = value / 100;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
