// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title CreatorCollection (foundation placeholder)
/// @notice A minimal creator collection: the owner mints tokens bound to an IPFS CID.
/// @dev The full template (factory clones, rights records, editions, rentals) replaces this.
contract CreatorCollection is ERC721, ERC2981, Ownable {
    /// @notice Raised when a mint names an empty CID.
    error CollectionEmptyCid();

    /// @notice Emitted when `tokenId` is minted to `to` for the work at `cid`.
    event WorkMinted(uint256 indexed tokenId, address indexed to, string cid);

    uint256 public nextTokenId = 1;
    mapping(uint256 tokenId => string cid) private _cids;

    constructor(string memory name_, string memory symbol_, address owner_)
        ERC721(name_, symbol_)
        Ownable(owner_)
    {}

    /// @notice Mint the next token to `to`, bound to `cid`. Only the owner.
    /// @return tokenId The new token's id.
    function mint(address to, string calldata cid) external onlyOwner returns (uint256 tokenId) {
        if (bytes(cid).length == 0) revert CollectionEmptyCid();
        tokenId = nextTokenId++;
        _cids[tokenId] = cid;
        _safeMint(to, tokenId);
        emit WorkMinted(tokenId, to, cid);
    }

    /// @inheritdoc ERC721
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        return string.concat("ipfs://", _cids[tokenId]);
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 id) public view override(ERC721, ERC2981) returns (bool) {
        return super.supportsInterface(id);
    }
}
