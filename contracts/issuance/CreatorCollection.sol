// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {ERC721Core} from "../token/ERC721Core.sol";
import {CollectionAdmin} from "./CollectionAdmin.sol";
import {ICreatorCollection} from "../interfaces/ICreatorCollection.sol";
import {IERC4907} from "../interfaces/IERC4907.sol";
import {IRightsRegistry} from "../interfaces/IRightsRegistry.sol";
import {IIdentityRegistry} from "../interfaces/IIdentityRegistry.sol";
import {ITransferPolicy, ITransferPolicyHost} from "../interfaces/ITransferPolicy.sol";
import {Cid} from "./Cid.sol";

/// @title CreatorCollection
/// @notice A creator's ERC-721 collection, deployed as a clone by the CollectionFactory. Every token is
///         bound to a work (CID + content hash); minting writes the work's record in the
///         RightsRegistry. Editions mint many tokens of one work in one transaction.
/// @dev Transfers, approvals, balances, name and symbol are the shared `ERC721Core` (every change of
///      hands goes through its `_update`); owner, minters and pause are the shared `CollectionAdmin`.
///      What this contract adds is an ownership store in the style of ERC721A (OpenZeppelin's
///      ERC721Consecutive only mints in constructors, which clones do not run):
///
///      - Ownership is one packed slot per token: owner (bits 0..159), work id (160..191: the first
///        token of the work's edition), the CID head (192..207) and the token's transfer count
///        (208..255, `holdingEpoch`: the marketplace binds listings to it, so a listing dies when
///        its token changes hands; it costs a transfer nothing, the slot is written anyway). An edition writes the slot of its
///        first token and of every `CHECKPOINT_INTERVAL`-th token after it; a token whose slot is
///        empty belongs to the nearest written slot below it, so a lookup reads at most
///        `CHECKPOINT_INTERVAL` slots. A transfer writes the token's slot and, when the next token's
///        slot is empty, copies the old ownership there so the next token keeps its owner.
///      - The CID digest is stored once per work (`_workDigest[workId]`); the content hash is not
///        stored here: the registry record of the hash points to (collection, work id), and
///        `WorkMinted` carries it. Minting a work thus writes three new slots in all (ownership,
///        digest, registry record).
///      - Editions announce their tokens with one ERC-2309 `ConsecutiveTransfer` (ERC-2309 replaces
///        the `Transfer` events of a consecutive range); single tokens with `Transfer`.
///      - The rights registry is not in storage: the factory appends its address to the clone's code
///        (an immutable argument, `Clones.cloneDeterministicWithImmutableArgs`), which costs a mint
///        about 100 gas to read instead of a cold slot's 2,100.
///      - Token ids start at 1 and are 32-bit; there is no burn, so totalSupply = next id - 1.
///      - Mints are safe: a contract recipient must accept every token (`onERC721Received`), called
///        after all state is written, the registry record included.
///      - Transfer policy (ITransferPolicyHost): when the platform's TransferPolicy is attached, every
///        mint and transfer asks it first (`_checkPolicy`). Whether one is attached is a flag in the
///        hot slot (free for collections without a policy); its address lives in ERC-7201 namespaced
///        storage, so no existing slot moved (the provenance verifier reads slot 7).
///      - Storage: ERC2981 holds slots 0-1; `CollectionAdmin`'s `_owner` and `_paused` open slot 2,
///        this contract's counter and flags fill it; `_packedOwnerships` stays at slot 7, where
///        `chain/provenance/state.py` proves it (`tests/unit/test_provenance_layout.py` asks solc).
///        The core's balances and approvals and the minter set are in ERC-7201 namespaces.
contract CreatorCollection is ERC2981, ERC721Core, CollectionAdmin, ICreatorCollection, ITransferPolicyHost {
    /// @notice An edition writes the ownership slot of every this-many-th token (bounds lookups).
    uint256 public constant CHECKPOINT_INTERVAL = 16;

    uint256 private constant _WORK_SHIFT = 160;
    uint256 private constant _HEAD_SHIFT = 192;
    uint256 private constant _EPOCH_SHIFT = 208;
    uint256 private constant _MAX_NEXT_ID = type(uint32).max;

    // Slot 2, read by every mint and transfer: CollectionAdmin's `_owner` and `_paused`, then these.
    uint32 private _nextTokenId;
    bool private _requireVerified;
    bool private _initialized;
    bool private _metadataFrozen;
    bool private _hasTransferPolicy; // the policy address is in `_PolicyStorage`

    IIdentityRegistry private _identity; // slot 3
    string private _uriPrefix; // slot 4
    mapping(uint256 workId => bytes32 digest) private _workDigest; // slot 5
    mapping(uint256 tokenId => uint256 packed) private _rentals; // slot 6: user (0..159), expires (160..223)
    mapping(uint256 tokenId => uint256 packed) private _packedOwnerships; // slot 7: proven, do not move

    /// @custom:storage-location erc7201:chainright.storage.TransferPolicyHost
    struct _PolicyStorage {
        ITransferPolicy policy;
    }

    // keccak256(abi.encode(uint256(keccak256("chainright.storage.TransferPolicyHost")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _POLICY_SLOT = 0x7e8d0cfb38dbc6cf9c0fa3d0a115064f734fa7da607012738ecc81f81b74fb00;

    /// @notice Locks the implementation: only clones can be initialized.
    constructor() {
        _initialized = true;
    }

    // ------------------------------------------------------------------ setup and roles

    /// @inheritdoc ICreatorCollection
    function initialize(Settings calldata settings, address rightsRegistry_) external {
        if (_initialized) revert CollectionAlreadyInitialized();
        if (settings.owner == address(0)) revert CollectionInvalidOwner(address(0));
        if (rightsRegistry_ == address(0) || rightsRegistry_ != address(_registry())) {
            revert CollectionRightsRegistryMissing();
        }
        if (settings.requireVerifiedHolders && settings.identityRegistry == address(0)) {
            revert CollectionIdentityRegistryMissing();
        }
        _initialized = true;
        _owner = settings.owner;
        _nextTokenId = 1;
        _identity = IIdentityRegistry(settings.identityRegistry);
        _requireVerified = settings.requireVerifiedHolders;
        _setNameAndSymbol(settings.name, settings.symbol);
        _setDefaultRoyalty(settings.royaltyReceiver, settings.royaltyBps);
        emit OwnershipTransferred(address(0), settings.owner);
        emit DefaultRoyaltyUpdated(settings.royaltyReceiver, settings.royaltyBps);
        emit IdentityPolicyUpdated(settings.identityRegistry, settings.requireVerifiedHolders);
    }

    /// @inheritdoc ICreatorCollection
    function setIdentityPolicy(address identityRegistry, bool requireVerifiedHolders) external onlyOwner {
        if (requireVerifiedHolders && identityRegistry == address(0)) revert CollectionIdentityRegistryMissing();
        _identity = IIdentityRegistry(identityRegistry);
        _requireVerified = requireVerifiedHolders;
        emit IdentityPolicyUpdated(identityRegistry, requireVerifiedHolders);
    }

    /// @inheritdoc ICreatorCollection
    function setDefaultRoyalty(address receiver, uint96 bps) external onlyOwner {
        _setDefaultRoyalty(receiver, bps);
        emit DefaultRoyaltyUpdated(receiver, bps);
    }

    /// @inheritdoc ICreatorCollection
    function setUriPrefix(string calldata prefix) external onlyOwner {
        if (_metadataFrozen) revert CollectionMetadataFrozen();
        _uriPrefix = prefix;
        emit UriPrefixUpdated(prefix);
        uint256 supply = _nextTokenId - 1;
        if (supply != 0) emit BatchMetadataUpdate(1, supply);
    }

    /// @inheritdoc ICreatorCollection
    function freezeMetadata() external onlyOwner {
        if (_metadataFrozen) revert CollectionMetadataFrozen();
        _metadataFrozen = true;
        emit MetadataFrozen();
    }

    /// @inheritdoc ITransferPolicyHost
    function setTransferPolicy(address policy) external {
        address platform = _registry().transferPolicy();
        if (msg.sender != platform || (policy != platform && policy != address(0))) {
            revert TransferPolicyNotPlatform(msg.sender);
        }
        _policyStorage().policy = ITransferPolicy(policy);
        _hasTransferPolicy = policy != address(0);
        emit TransferPolicyUpdated(policy);
    }

    // ------------------------------------------------------------------ minting

    /// @inheritdoc ICreatorCollection
    function mintWork(address to, bytes32 contentHash, bytes calldata cid) external returns (uint256 tokenId) {
        return _mintWork(to, 1, contentHash, cid);
    }

    /// @inheritdoc ICreatorCollection
    function mintEdition(address to, uint256 quantity, bytes32 contentHash, bytes calldata cid)
        external
        returns (uint256 firstTokenId)
    {
        return _mintWork(to, quantity, contentHash, cid);
    }

    function _mintWork(address to, uint256 quantity, bytes32 contentHash, bytes calldata cid)
        private
        returns (uint256 first)
    {
        // Checks
        address owner_ = _owner;
        bool policed = _hasTransferPolicy; // same slot as the owner: read together
        if (msg.sender != owner_ && !_isMinter(msg.sender)) revert CollectionNotMinter(msg.sender);
        if (_paused) revert CollectionPaused();
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        if (quantity == 0) revert CollectionQuantityZero();
        uint256 packed; // the new ownership word: CID head here, holder and work id below
        bytes32 digest;
        {
            uint16 head;
            (head, digest) = Cid.pack(cid);
            packed = uint256(head) << _HEAD_SHIFT;
        }
        first = _nextTokenId;
        if (quantity > _MAX_NEXT_ID - first) revert CollectionSupplyExhausted(quantity, _MAX_NEXT_ID - first);
        _requireVerifiedRecipient(to);

        // Effects
        uint256 end = first + quantity;
        _nextTokenId = uint32(end);
        packed |= uint256(uint160(to)) | (first << _WORK_SHIFT);
        _update(address(0), to, first, quantity, packed);
        _workDigest[first] = digest;
        emit WorkMinted(first, contentHash, quantity);

        // Interactions: the transfer policy and the registry (trusted, no callbacks; either may
        // revert the mint), then the recipient's acceptance.
        if (policed) {
            for (uint256 id = first; id < end; ++id) _checkPolicy(owner_, address(0), to, id);
        }
        _registry().recordMint(contentHash, owner_, first, uint16(packed >> _HEAD_SHIFT), digest);
        if (to.code.length != 0) {
            for (uint256 id = first; id < end; ++id) {
                ERC721Utils.checkOnERC721Received(msg.sender, address(0), to, id, "");
            }
        }
    }

    // ------------------------------------------------------------------ ERC-721 (the rest is ERC721Core)

    /// @notice Move `tokenId` from `from` to `to`. Owner, approved or operator; not paused; admitted
    ///         by the attached transfer policy, if any.
    /// @dev Clears the token approval and the ERC-4907 user (`UpdateUser(tokenId, 0, 0)`); emits
    ///      `Transfer`. Reverts with `ERC721NonexistentToken`, `ERC721IncorrectOwner`,
    ///      `ERC721InvalidReceiver`, `ERC721InsufficientApproval`, `CollectionPaused`,
    ///      `CollectionRecipientNotVerified` and the policy's `TransferPolicy*` errors.
    function transferFrom(address from, address to, uint256 tokenId) public override(ERC721Core, IERC721) {
        super.transferFrom(from, to, tokenId);
        // Interactions: the attached transfer policy (trusted, no callbacks) may refuse the move.
        if (_hasTransferPolicy) _checkPolicy(_owner, from, to, tokenId);
    }

    /// @notice How many times `tokenId` changed hands (IHoldingEpoch; the same for every holder: it
    ///         changes whenever anyone receives the token). Reverts with `ERC721NonexistentToken`.
    function holdingEpoch(address, uint256 tokenId) external view returns (uint256) {
        return _packedOf(tokenId) >> _EPOCH_SHIFT;
    }

    /// @notice `<prefix><cid>`: `ipfs://b...` unless the owner set another prefix.
    /// @dev Reverts with `ERC721NonexistentToken`.
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        uint256 packed = _packedOf(tokenId);
        uint256 workId = uint32(packed >> _WORK_SHIFT);
        string memory prefix = bytes(_uriPrefix).length == 0 ? "ipfs://" : _uriPrefix;
        return string.concat(prefix, Cid.toString(uint16(packed >> _HEAD_SHIFT), _workDigest[workId]));
    }

    /// @notice ERC-165: ERC-721 and its metadata, ERC-2981, ERC-4906, ERC-4907.
    /// @dev Written out rather than chained through ERC721Core (same answers, ERC-2981 found as fast
    ///      as before: marketplaces ask for it on every sale); ERC2981 answers ERC-2981 and ERC-165.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC2981, ERC721Core, IERC165)
        returns (bool)
    {
        return interfaceId == type(IERC721).interfaceId || interfaceId == type(IERC721Metadata).interfaceId
            || interfaceId == bytes4(0x49064906) || interfaceId == type(IERC4907).interfaceId
            || ERC2981.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ ERC-4907 rentals

    /// @inheritdoc IERC4907
    /// @dev Holder, approved or operator; not paused. `user` zero clears. Emits `UpdateUser`.
    ///      Reverts with `ERC721NonexistentToken`, `ERC721InsufficientApproval`, `CollectionPaused`.
    function setUser(uint256 tokenId, address user, uint64 expires) external {
        address holder = ownerOf(tokenId);
        if (msg.sender != holder && msg.sender != _approvedOf(tokenId) && !isApprovedForAll(holder, msg.sender)) {
            revert ERC721InsufficientApproval(msg.sender, tokenId);
        }
        if (_paused) revert CollectionPaused();
        _rentals[tokenId] = user == address(0) ? 0 : uint256(uint160(user)) | (uint256(expires) << 160);
        emit UpdateUser(tokenId, user, user == address(0) ? 0 : expires);
    }

    /// @inheritdoc IERC4907
    function userOf(uint256 tokenId) external view returns (address) {
        uint256 rental = _rentals[tokenId];
        if (uint64(rental >> 160) < block.timestamp) return address(0);
        return address(uint160(rental));
    }

    /// @inheritdoc IERC4907
    function userExpires(uint256 tokenId) external view returns (uint256) {
        return uint64(_rentals[tokenId] >> 160);
    }

    // ------------------------------------------------------------------ works and views

    /// @inheritdoc ICreatorCollection
    function workOf(uint256 tokenId) external view returns (uint256 workId, bytes memory cid) {
        uint256 packed = _packedOf(tokenId);
        workId = uint32(packed >> _WORK_SHIFT);
        cid = Cid.toBytes(uint16(packed >> _HEAD_SHIFT), _workDigest[workId]);
    }

    /// @notice The binary CID of the work `tokenId` belongs to (read by the registry).
    /// @dev Reverts with `ERC721NonexistentToken`.
    function workCid(uint256 tokenId) external view returns (bytes memory) {
        uint256 packed = _packedOf(tokenId);
        return Cid.toBytes(uint16(packed >> _HEAD_SHIFT), _workDigest[uint32(packed >> _WORK_SHIFT)]);
    }

    /// @inheritdoc ICreatorCollection
    function rightsRegistry() external view returns (address) {
        return address(_registry());
    }

    /// @inheritdoc ICreatorCollection
    function identityPolicy() external view returns (address identityRegistry, bool requireVerifiedHolders) {
        return (address(_identity), _requireVerified);
    }

    /// @inheritdoc ITransferPolicyHost
    function transferPolicy() external view returns (address) {
        return address(_policyStorage().policy);
    }

    /// @inheritdoc ICreatorCollection
    function uriPrefix() external view returns (string memory) {
        return _uriPrefix;
    }

    /// @inheritdoc ICreatorCollection
    function metadataFrozen() external view returns (bool) {
        return _metadataFrozen;
    }

    /// @inheritdoc ICreatorCollection
    function totalSupply() external view returns (uint256) {
        uint256 next = _nextTokenId;
        return next == 0 ? 0 : next - 1;
    }

    // ------------------------------------------------------------------ internals

    /// @dev The packed ownership of an existing token: its own slot or the nearest written one below.
    function _packedOf(uint256 tokenId) internal view override returns (uint256 packed) {
        if (tokenId == 0 || tokenId >= _nextTokenId) revert ERC721NonexistentToken(tokenId);
        while ((packed = _packedOwnerships[tokenId]) == 0) {
            unchecked {
                --tokenId;
            }
        }
    }

    /// @dev A mint writes the ownership word of its first token and of every `CHECKPOINT_INTERVAL`-th
    ///      token after it. A transfer writes the token's word with the new holder and the transfer
    ///      count + 1 (48 bits: wraps after 2^48 transfers), copies the old word into the next
    ///      token's empty slot (so that token keeps its owner) and ends an ERC-4907 rental. No burn.
    function _writeOwnership(address from, address to, uint256 tokenId, uint256 quantity, uint256 packed)
        internal
        override
    {
        if (from == address(0)) {
            uint256 end = tokenId + quantity;
            for (uint256 id = tokenId; id < end; id += CHECKPOINT_INTERVAL) {
                _packedOwnerships[id] = packed;
            }
            return;
        }
        unchecked {
            _packedOwnerships[tokenId] = ((packed & ~_OWNER_MASK) + (1 << _EPOCH_SHIFT)) | uint256(uint160(to));
        }
        uint256 next = tokenId + 1;
        if (next < _nextTokenId && _packedOwnerships[next] == 0) _packedOwnerships[next] = packed;
        if (from != to && _rentals[tokenId] != 0) {
            delete _rentals[tokenId];
            emit UpdateUser(tokenId, address(0), 0);
        }
    }

    /// @dev A transfer needs the collection unpaused and, under the verified-holder policy, a
    ///      verified recipient.
    function _checkTransfer(address, address to, uint256) internal view override {
        if (_paused) revert CollectionPaused();
        _requireVerifiedRecipient(to);
    }

    function _revertAdmin(AdminFailure failure, address account) internal pure override {
        if (failure == AdminFailure.NotOwner) revert CollectionNotOwner(account);
        if (failure == AdminFailure.NotMinter) revert CollectionNotMinter(account);
        if (failure == AdminFailure.InvalidOwner) revert CollectionInvalidOwner(account);
        if (failure == AdminFailure.Paused) revert CollectionPaused();
        revert CollectionNotPaused();
    }

    /// @dev The rights registry, read from the clone's own code (the factory appends it as the
    ///      clone's immutable argument): cheaper than a cold storage slot on every mint. Zero for the
    ///      implementation and for clones made without it.
    function _registry() private view returns (IRightsRegistry) {
        bytes memory args = Clones.fetchCloneArgs(address(this));
        return args.length == 20 ? IRightsRegistry(address(bytes20(args))) : IRightsRegistry(address(0));
    }

    /// @dev Ask the attached policy (trusted: the platform's, it does not call back) to admit a move.
    function _checkPolicy(address creator, address from, address to, uint256 tokenId) private {
        _policyStorage().policy.checkTransfer(creator, msg.sender, from, to, tokenId, 1);
    }

    function _policyStorage() private pure returns (_PolicyStorage storage $) {
        assembly {
            $.slot := _POLICY_SLOT
        }
    }

    function _requireVerifiedRecipient(address account) private view {
        if (_requireVerified && !_identity.isVerified(account)) revert CollectionRecipientNotVerified(account);
    }
}
