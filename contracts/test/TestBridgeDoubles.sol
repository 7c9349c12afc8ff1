// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBridgeEndpoint} from "../interfaces/IBridge.sol";
import {IRightsRegistry} from "../interfaces/IRightsRegistry.sol";
import {Cid} from "../issuance/Cid.sol";

/// @title TestBridgeLicensing (test helper)
/// @notice Answers `attachedTerms` with whatever the test set. Not deployed by the platform.
contract TestBridgeLicensing {
    mapping(address collection => mapping(uint256 tokenId => bytes32[])) private _terms;

    function setTerms(address collection, uint256 tokenId, bytes32[] calldata terms) external {
        _terms[collection][tokenId] = terms;
    }

    function attachedTerms(address collection, uint256 tokenId) external view returns (bytes32[] memory) {
        return _terms[collection][tokenId];
    }
}

/// @title TestRogueFactory (test helper)
/// @notice A factory the registry owner allowed in a test, so a rogue collection can record mints.
contract TestRogueFactory {
    function add(IRightsRegistry registry, address collection) external {
        registry.addCollection(collection);
    }
}

/// @title TestRogueCollection (test helper)
/// @notice An ERC-721-shaped collection with a registry record whose behaviour a test bends: a token
///         URI that does not end with its CID, a royalty above 100%, a `transferFrom` that moves
///         nothing, or one that calls back into the caller (re-entrancy). Not deployed by the platform.
contract TestRogueCollection {
    IRightsRegistry public immutable registry;
    mapping(uint256 tokenId => address holder) public ownerOf;
    mapping(uint256 tokenId => bytes cid) private _cids;
    string public uriOverride;
    uint256 public royaltyBps = 500;
    bool public moveTokens = true;
    address public reenterTarget;
    bytes public reenterData;

    constructor(IRightsRegistry registry_) {
        registry = registry_;
    }

    function mint(address to, uint256 tokenId, bytes32 contentHash, bytes calldata cid) external {
        (uint16 head, bytes32 digest) = Cid.pack(cid);
        ownerOf[tokenId] = to;
        _cids[tokenId] = cid;
        registry.recordMint(contentHash, msg.sender, tokenId, head, digest);
    }

    function setUriOverride(string calldata uri) external {
        uriOverride = uri;
    }

    function setRoyaltyBps(uint256 bps) external {
        royaltyBps = bps;
    }

    function setMoveTokens(bool move) external {
        moveTokens = move;
    }

    function setReenter(address target, bytes calldata data) external {
        reenterTarget = target;
        reenterData = data;
    }

    function workOf(uint256 tokenId) external view returns (uint256, bytes memory) {
        return (tokenId, _cids[tokenId]);
    }

    function workCid(uint256 tokenId) external view returns (bytes memory) {
        return _cids[tokenId];
    }

    function tokenURI(uint256 tokenId) external view returns (string memory) {
        if (bytes(uriOverride).length != 0) return uriOverride;
        bytes memory cid = _cids[tokenId];
        uint16 head = (uint16(uint8(cid[1])) << 8) | uint16(uint8(cid[2]));
        bytes32 digest;
        assembly ("memory-safe") {
            digest := mload(add(cid, 36))
        }
        return string.concat("ipfs://", Cid.toString(head, digest));
    }

    function royaltyInfo(uint256, uint256 salePrice) external view returns (address, uint256) {
        return (address(this), salePrice * royaltyBps / 10_000);
    }

    function transferFrom(address, address to, uint256 tokenId) external {
        if (reenterTarget != address(0)) {
            (bool ok, bytes memory data) = reenterTarget.call(reenterData);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(data, 32), mload(data))
                }
            }
        }
        if (moveTokens) ownerOf[tokenId] = to;
    }
}

/// @title TestLookalikeLockbox (test helper)
/// @notice Emits an event with the lockbox's `TokenLocked` signature without holding anything: the
///         relayer must never turn it into a mint. Not deployed by the platform.
contract TestLookalikeLockbox {
    event TokenLocked(
        uint256 indexed transferId,
        address indexed collection,
        uint256 indexed tokenId,
        address sender,
        address recipient,
        uint256 destChainId,
        IBridgeEndpoint.Rights rights
    );

    function fakeLock(
        uint256 transferId,
        address collection,
        uint256 tokenId,
        address recipient,
        uint256 destChainId,
        IBridgeEndpoint.Rights calldata rights
    ) external {
        emit TokenLocked(transferId, collection, tokenId, msg.sender, recipient, destChainId, rights);
    }
}
