// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC1155MetadataURI} from "@openzeppelin/contracts/token/ERC1155/extensions/IERC1155MetadataURI.sol";
import {IEditions1155} from "../interfaces/IEditions1155.sol";
import {IRightsRegistry} from "../interfaces/IRightsRegistry.sol";
import {ITransferPolicy, ITransferPolicyHost} from "../interfaces/ITransferPolicy.sol";
import {Cid} from "./Cid.sol";
import {CollectionAdmin} from "./CollectionAdmin.sol";

/// @title Editions1155
/// @notice A creator's ERC-1155 editions, deployed as a clone by the CollectionFactory. Each token id
///         is one work: `mintWork` creates the next id, binds it to the work's CID and writes the
///         work's rights record; `mint` adds copies of an existing work.
/// @dev OpenZeppelin's ERC1155 keeps no constructor state that clones need (`uri` is overridden),
///      so it works behind a clone. Ids are sequential from 1; the registry record of a work names
///      (this contract, id). The pause blocks minting and transfers (`_update`).
///      Every balance change also asks the attached transfer policy, if any (ITransferPolicyHost):
///      a flag in the hot slot says whether one is attached, its address is in ERC-7201 storage.
///      Owner, minters and pause are the shared `CollectionAdmin` (its `_owner` and `_paused` open
///      the hot slot, this contract's next id and flags fill it).
contract Editions1155 is IEditions1155, ITransferPolicyHost, ERC1155, ERC2981, CollectionAdmin {
    struct Work {
        bytes32 digest;
        uint16 head;
    }

    // One slot: CollectionAdmin's `_owner` and `_paused`, then next id and flags.
    uint64 private _nextId;
    bool private _initialized;
    bool private _hasTransferPolicy; // the policy address is in `_PolicyStorage`

    IRightsRegistry private _registry;
    string private _name;
    string private _symbol;
    mapping(uint256 id => Work work) private _works;
    mapping(uint256 id => mapping(address holder => uint256 count)) private _receipts;

    /// @custom:storage-location erc7201:chainright.storage.TransferPolicyHost
    struct _PolicyStorage {
        ITransferPolicy policy;
    }

    // keccak256(abi.encode(uint256(keccak256("chainright.storage.TransferPolicyHost")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _POLICY_SLOT = 0x7e8d0cfb38dbc6cf9c0fa3d0a115064f734fa7da607012738ecc81f81b74fb00;

    /// @notice Locks the implementation: only clones can be initialized.
    constructor() ERC1155("") {
        _initialized = true;
    }

    /// @inheritdoc IEditions1155
    function initialize(Settings calldata settings, address rightsRegistry_) external {
        if (_initialized) revert EditionsAlreadyInitialized();
        if (settings.owner == address(0)) revert EditionsInvalidOwner(address(0));
        if (rightsRegistry_ == address(0)) revert EditionsRightsRegistryMissing();
        _initialized = true;
        _owner = settings.owner;
        _nextId = 1;
        _registry = IRightsRegistry(rightsRegistry_);
        _name = settings.name;
        _symbol = settings.symbol;
        _setDefaultRoyalty(settings.royaltyReceiver, settings.royaltyBps);
        emit OwnershipTransferred(address(0), settings.owner);
        emit DefaultRoyaltyUpdated(settings.royaltyReceiver, settings.royaltyBps);
    }

    /// @inheritdoc IEditions1155
    function mintWork(address to, uint256 amount, bytes32 contentHash, bytes calldata cid)
        external
        onlyMinter
        returns (uint256 id)
    {
        // Checks
        if (_paused) revert EditionsPaused();
        if (amount == 0) revert EditionsAmountZero();
        (uint16 head, bytes32 digest) = Cid.pack(cid);

        // Effects
        id = _nextId++;
        _works[id] = Work({digest: digest, head: head});
        emit WorkCreated(id, contentHash);
        emit URI(uri(id), id);

        // Interactions: the registry (trusted, no callbacks), then the mint with its acceptance check.
        _registry.recordMint(contentHash, _owner, id, head, digest);
        _mint(to, id, amount, "");
    }

    /// @inheritdoc IEditions1155
    function mint(address to, uint256 id, uint256 amount) external onlyMinter {
        if (_paused) revert EditionsPaused();
        if (amount == 0) revert EditionsAmountZero();
        if (id == 0 || id >= _nextId) revert EditionsUnknownWork(id);
        _mint(to, id, amount, "");
    }

    /// @inheritdoc ITransferPolicyHost
    function setTransferPolicy(address policy) external {
        address platform = _registry.transferPolicy();
        if (msg.sender != platform || (policy != platform && policy != address(0))) {
            revert TransferPolicyNotPlatform(msg.sender);
        }
        _policyStorage().policy = ITransferPolicy(policy);
        _hasTransferPolicy = policy != address(0);
        emit TransferPolicyUpdated(policy);
    }

    /// @inheritdoc ITransferPolicyHost
    function transferPolicy() external view returns (address) {
        return address(_policyStorage().policy);
    }

    /// @inheritdoc IEditions1155
    function setDefaultRoyalty(address receiver, uint96 bps) external onlyOwner {
        _setDefaultRoyalty(receiver, bps);
        emit DefaultRoyaltyUpdated(receiver, bps);
    }

    /// @notice `ipfs://<cid>` of work `id`. Reverts with `EditionsUnknownWork`.
    function uri(uint256 id) public view override(ERC1155, IERC1155MetadataURI) returns (string memory) {
        Work storage work = _knownWork(id);
        return string.concat("ipfs://", Cid.toString(work.head, work.digest));
    }

    /// @inheritdoc IEditions1155
    function workCid(uint256 id) external view override(IEditions1155) returns (bytes memory) {
        Work storage work = _knownWork(id);
        return Cid.toBytes(work.head, work.digest);
    }

    /// @inheritdoc IEditions1155
    function name() external view returns (string memory) {
        return _name;
    }

    /// @inheritdoc IEditions1155
    function symbol() external view returns (string memory) {
        return _symbol;
    }

    /// @inheritdoc IEditions1155
    function rightsRegistry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IEditions1155
    function workCount() external view returns (uint256) {
        uint256 next = _nextId;
        return next == 0 ? 0 : next - 1;
    }

    /// @notice ERC-165: ERC-1155 and its metadata URI, ERC-2981.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC1155, ERC2981, IERC165)
        returns (bool)
    {
        return ERC1155.supportsInterface(interfaceId) || ERC2981.supportsInterface(interfaceId);
    }

    /// @notice How many times `holder` has received units of `id` (IHoldingEpoch: a marketplace
    ///         listing signed at this value dies at the holder's next receipt of `id`).
    function holdingEpoch(address holder, uint256 id) external view returns (uint256) {
        return _receipts[id][holder];
    }

    /// @dev Every balance change (mint, single and batch transfer) goes through here: blocked while
    ///      paused; each receipt bumps the recipient's holding epoch of the id (one more storage write
    ///      per transfer: the price of listings that die when their units come back); then the
    ///      attached transfer policy (trusted, no callbacks) is asked per id.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        if (_paused) revert EditionsPaused();
        if (to != address(0)) {
            for (uint256 i = 0; i < ids.length; ++i) {
                unchecked {
                    ++_receipts[ids[i]][to];
                }
            }
        }
        super._update(from, to, ids, values);
        if (_hasTransferPolicy) {
            ITransferPolicy policy = _policyStorage().policy;
            address creator = _owner;
            for (uint256 i = 0; i < ids.length; ++i) {
                policy.checkTransfer(creator, _msgSender(), from, to, ids[i], values[i]);
            }
        }
    }

    function _revertAdmin(AdminFailure failure, address account) internal pure override {
        if (failure == AdminFailure.NotOwner) revert EditionsNotOwner(account);
        if (failure == AdminFailure.NotMinter) revert EditionsNotMinter(account);
        if (failure == AdminFailure.InvalidOwner) revert EditionsInvalidOwner(account);
        if (failure == AdminFailure.Paused) revert EditionsPaused();
        revert EditionsNotPaused();
    }

    function _policyStorage() private pure returns (_PolicyStorage storage $) {
        assembly {
            $.slot := _POLICY_SLOT
        }
    }

    function _knownWork(uint256 id) private view returns (Work storage work) {
        work = _works[id];
        if (id == 0 || id >= _nextId) revert EditionsUnknownWork(id);
    }
}
