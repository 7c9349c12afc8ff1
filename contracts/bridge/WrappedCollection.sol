// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {ERC721Core} from "../token/ERC721Core.sol";
import {IBridgeEndpoint} from "../interfaces/IBridge.sol";
import {IWrappedCollection} from "../interfaces/IWrappedCollection.sol";
import {IRoyaltySplitter} from "../interfaces/IRoyaltySplitter.sol";
import {Cid} from "../issuance/Cid.sol";

/// @title WrappedCollection
/// @notice The remote chain's ERC-721 of bridged tokens: minted by its bridge when a token arrives,
///         burned when it leaves. Every wrapped token answers like its home token: same `tokenURI`,
///         same ERC-2981 receiver and basis points, and carries the content hash, CID, license terms
///         hash and provenance hash it arrived with.
/// @dev Storage per wrapped token, laid out so an arrival writes five new slots:
///      - `_tokens[id]`: owner (bits 0..159), royalty bps (160..175), CID head (176..191) and a flag
///        (bit 192) set when the token URI's prefix is not `ipfs://`;
///      - `_rights[id]`: royalty receiver, content hash, CID digest, provenance hash, and the license
///        terms hash and remote splitter (each written only when non-zero);
///      - `_uriPrefix[id]`: the URI prefix, only when it is not `ipfs://`.
///      `tokenURI` renders prefix + base32 CID, the same text the home collection returned. The wrapped id
///      encodes the home token: `uint256(uint160(homeCollection)) << 96 | homeTokenId`. No callbacks
///      on mint (a recipient cannot block a delivery); `safeTransferFrom` calls `onERC721Received`.
///      Transfers, approvals, balances, name and symbol are the shared `ERC721Core`; mint, transfer
///      and burn all go through its `_update`. Storage: Ownable's owner is slot 0, `_bridge` slot 1,
///      and `_tokens` stays at slot 4, where `chain/provenance/state.py` proves it
///      (`tests/unit/test_provenance_layout.py` asks solc); the core's state is in an ERC-7201 namespace.
contract WrappedCollection is ERC721Core, IWrappedCollection, Ownable {
    uint256 private constant _BPS_SHIFT = 160;
    uint256 private constant _HEAD_SHIFT = 176;
    uint256 private constant _CUSTOM_URI = 1 << 192;
    uint256 private constant _CID_TEXT_LENGTH = 59;
    bytes7 private constant _IPFS = "ipfs://";

    struct TokenRights {
        address royaltyReceiver;
        bytes32 contentHash;
        bytes32 cidDigest;
        bytes32 provenanceHash;
        bytes32 licenseTermsHash;
        address splitter;
    }

    address private _bridge; // slot 1
    mapping(uint256 tokenId => TokenRights) private _rights; // slot 2
    mapping(uint256 tokenId => string prefix) private _uriPrefix; // slot 3
    mapping(uint256 tokenId => uint256 packed) private _tokens; // slot 4: proven, do not move

    /// @param initialOwner May set the bridge.
    constructor(string memory name_, string memory symbol_, address initialOwner) Ownable(initialOwner) {
        _setNameAndSymbol(name_, symbol_);
    }

    modifier onlyBridge() {
        if (msg.sender != _bridge) revert WrappedNotBridge(msg.sender);
        _;
    }

    // ------------------------------------------------------------------ bridge

    /// @inheritdoc IWrappedCollection
    function setBridge(address bridge_) external onlyOwner {
        _bridge = bridge_;
        emit BridgeUpdated(bridge_);
    }

    /// @inheritdoc IWrappedCollection
    /// @dev Also reverts with `CidUnsupported` for a CID that is not 36-byte binary CIDv1.
    function mint(address to, uint256 wrappedTokenId, IBridgeEndpoint.Rights calldata rights, address splitter)
        external
        onlyBridge
    {
        // Checks
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        if (_tokens[wrappedTokenId] != 0) revert WrappedTokenExists(wrappedTokenId);
        uint256 packed; // the new ownership word
        bytes32 digest;
        bytes calldata prefix;
        {
            bytes calldata uri = bytes(rights.tokenURI);
            if (uri.length < _CID_TEXT_LENGTH || rights.royaltyBps > 10_000) {
                revert WrappedRightsInvalid(wrappedTokenId);
            }
            uint16 head;
            (head, digest) = Cid.pack(rights.cid);
            prefix = uri[:uri.length - _CID_TEXT_LENGTH];
            bool custom = prefix.length != _IPFS.length || bytes7(prefix) != _IPFS;
            packed = uint256(uint160(to)) | (uint256(rights.royaltyBps) << _BPS_SHIFT)
                | (uint256(head) << _HEAD_SHIFT) | (custom ? _CUSTOM_URI : 0);
        }

        // Effects
        TokenRights storage stored = _rights[wrappedTokenId];
        if (rights.royaltyReceiver != address(0)) stored.royaltyReceiver = rights.royaltyReceiver;
        stored.contentHash = rights.contentHash;
        stored.cidDigest = digest;
        stored.provenanceHash = rights.provenanceHash;
        if (rights.licenseTermsHash != 0) stored.licenseTermsHash = rights.licenseTermsHash;
        if (splitter != address(0)) stored.splitter = splitter;
        if (packed & _CUSTOM_URI != 0) _uriPrefix[wrappedTokenId] = string(prefix);
        _update(address(0), to, wrappedTokenId, 1, packed);
    }

    /// @inheritdoc IWrappedCollection
    function burn(address from, uint256 wrappedTokenId)
        external
        onlyBridge
        returns (IBridgeEndpoint.Rights memory rights)
    {
        // Checks
        uint256 packed = _packedOf(wrappedTokenId);
        address holder = address(uint160(packed));
        if (holder != from) revert ERC721IncorrectOwner(from, wrappedTokenId, holder);
        rights = _rightsOf(wrappedTokenId, packed);

        // Effects
        delete _rights[wrappedTokenId];
        if (packed & _CUSTOM_URI != 0) delete _uriPrefix[wrappedTokenId];
        _update(holder, address(0), wrappedTokenId, 1, packed);
    }

    // ------------------------------------------------------------------ ERC-721 (the rest is ERC721Core)

    /// @notice The home token's URI: its prefix followed by the CID in base32.
    /// @dev Reverts with `ERC721NonexistentToken`.
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        return _tokenURI(tokenId, _packedOf(tokenId));
    }

    /// @notice ERC-2981: the home token's receiver and basis points; (0, 0) for a token that does not exist.
    function royaltyInfo(uint256 tokenId, uint256 salePrice) external view returns (address receiver, uint256 amount) {
        uint256 packed = _tokens[tokenId];
        if (packed == 0) return (address(0), 0);
        TokenRights storage stored = _rights[tokenId];
        address splitter = stored.splitter;
        receiver = splitter != address(0) ? splitter : stored.royaltyReceiver;
        return (receiver, salePrice * uint16(packed >> _BPS_SHIFT) / 10_000);
    }

    /// @notice ERC-165: ERC-721 and its metadata, ERC-2981.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721Core, IERC165) returns (bool) {
        return super.supportsInterface(interfaceId) || interfaceId == type(IERC2981).interfaceId;
    }

    // ------------------------------------------------------------------ rights views

    /// @inheritdoc IWrappedCollection
    function bridge() external view returns (address) {
        return _bridge;
    }

    /// @inheritdoc IWrappedCollection
    function rightsOf(uint256 wrappedTokenId) external view returns (IBridgeEndpoint.Rights memory) {
        return _rightsOf(wrappedTokenId, _packedOf(wrappedTokenId));
    }

    /// @inheritdoc IWrappedCollection
    function contentHashOf(uint256 wrappedTokenId) external view returns (bytes32) {
        _packedOf(wrappedTokenId);
        return _rights[wrappedTokenId].contentHash;
    }

    /// @inheritdoc IWrappedCollection
    function cidOf(uint256 wrappedTokenId) external view returns (bytes memory) {
        uint256 packed = _packedOf(wrappedTokenId);
        return Cid.toBytes(uint16(packed >> _HEAD_SHIFT), _rights[wrappedTokenId].cidDigest);
    }

    /// @inheritdoc IWrappedCollection
    function licenseTermsHashOf(uint256 wrappedTokenId) external view returns (bytes32) {
        _packedOf(wrappedTokenId);
        return _rights[wrappedTokenId].licenseTermsHash;
    }

    /// @inheritdoc IWrappedCollection
    function royaltySplitterOf(uint256 wrappedTokenId) external view returns (address) {
        _packedOf(wrappedTokenId);
        return _rights[wrappedTokenId].splitter;
    }

    /// @inheritdoc IWrappedCollection
    function provenanceHashOf(uint256 wrappedTokenId) external view returns (bytes32) {
        _packedOf(wrappedTokenId);
        return _rights[wrappedTokenId].provenanceHash;
    }

    /// @inheritdoc IWrappedCollection
    function homeTokenOf(uint256 wrappedTokenId) external pure returns (address collection, uint256 tokenId) {
        return (address(uint160(wrappedTokenId >> 96)), uint96(wrappedTokenId));
    }

    /// @inheritdoc IWrappedCollection
    function wrappedIdOf(address collection, uint256 tokenId) external pure returns (uint256) {
        return (uint256(uint160(collection)) << 96) | uint96(tokenId);
    }

    // ------------------------------------------------------------------ internals

    function _packedOf(uint256 tokenId) internal view override returns (uint256 packed) {
        packed = _tokens[tokenId];
        if (packed == 0) revert ERC721NonexistentToken(tokenId);
    }

    /// @dev Every wrapped token has its own word: a mint writes the new one, a transfer the new
    ///      holder into it, a burn deletes it.
    function _writeOwnership(address from, address to, uint256 tokenId, uint256, uint256 packed)
        internal
        override
    {
        if (from == address(0)) _tokens[tokenId] = packed;
        else if (to == address(0)) delete _tokens[tokenId];
        else _tokens[tokenId] = (packed & ~_OWNER_MASK) | uint256(uint160(to));
    }

    function _tokenURI(uint256 tokenId, uint256 packed) private view returns (string memory) {
        string memory prefix = packed & _CUSTOM_URI != 0 ? _uriPrefix[tokenId] : string(abi.encodePacked(_IPFS));
        return string.concat(prefix, Cid.toString(uint16(packed >> _HEAD_SHIFT), _rights[tokenId].cidDigest));
    }

    function _rightsOf(uint256 tokenId, uint256 packed) private view returns (IBridgeEndpoint.Rights memory) {
        TokenRights storage stored = _rights[tokenId];
        uint16 head = uint16(packed >> _HEAD_SHIFT);
        address splitter = stored.splitter;
        address[] memory splitRecipients = new address[](0);
        uint16[] memory splitBps = new uint16[](0);
        if (splitter != address(0)) (splitRecipients, splitBps) = IRoyaltySplitter(splitter).recipients();
        return IBridgeEndpoint.Rights({
            tokenURI: _tokenURI(tokenId, packed),
            cid: Cid.toBytes(head, stored.cidDigest),
            contentHash: stored.contentHash,
            royaltyReceiver: stored.royaltyReceiver,
            royaltyBps: uint16(packed >> _BPS_SHIFT),
            splitRecipients: splitRecipients,
            splitBps: splitBps,
            licenseTermsHash: stored.licenseTermsHash,
            provenanceHash: stored.provenanceHash
        });
    }
}
