// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IIdentityRegistry} from "../interfaces/IIdentityRegistry.sol";
import {ITransferPolicy, ITransferPolicyHost} from "../interfaces/ITransferPolicy.sol";

/// @title TransferPolicy
/// @notice The platform's per-collection transfer rules, enforced by the collections themselves: a
///         collection with rules calls `checkTransfer` on every mint and transfer (transferFrom,
///         safeTransferFrom, marketplace fills, ERC-1155 batches, operators), so no path around the
///         API escapes them. See ITransferPolicy for the rules.
/// @dev Who is who, per transfer of token `id` from `from` to `to` by `operator`:
///      - primary: a mint (`from` zero) or a transfer by the collection's creator (its owner);
///      - a venue releasing: `from` is a sale venue or a bridge (it only holds what the rules let in);
///      - otherwise the holder's own token: a sale when an operator moves it or it goes into a sale
///        venue, a gift when the holder moves it itself to anyone else.
///      noResale refuses the holder's sales; the holding period applies to every holder move except a
///      sale through a sale venue (allowed only without noResale). Tokens of a collection with rules
///      never go into a bridge (the wrapped copy on the other chain would escape them). A gift paid
///      off chain looks like any gift: the holding period is what bounds it.
///      Acquisition times are per (collection, id, holder): an ERC-1155 holder's clock restarts
///      whenever it receives more of the same id. Tokens acquired before the rules were set have no
///      recorded time and are not held back.
contract TransferPolicy is ITransferPolicy, AccessControl {
    /// @notice Sets rules and venues (the API's operator key).
    bytes32 public constant POLICY_ADMIN_ROLE = keccak256("POLICY_ADMIN_ROLE");

    IIdentityRegistry private _identity;
    mapping(address collection => Rules) private _rules;
    mapping(address account => Venue) private _venues;
    mapping(bytes32 key => uint64 at) private _acquired;

    /// @param admin Holds DEFAULT_ADMIN_ROLE and POLICY_ADMIN_ROLE.
    /// @param identityRegistry_ Consulted by `verifiedOnly` rules (may be zero until set).
    constructor(address admin, address identityRegistry_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(POLICY_ADMIN_ROLE, admin);
        _identity = IIdentityRegistry(identityRegistry_);
    }

    /// @inheritdoc ITransferPolicy
    function checkTransfer(address creator, address operator, address from, address to, uint256 id, uint256)
        external
    {
        Rules memory rules = _rules[msg.sender];
        if (!rules.active) return;
        Venue toKind = _venues[to];
        if (toKind == Venue.Bridge) revert TransferPolicyBridgeForbidden(msg.sender, id);
        Venue fromKind = from == address(0) ? Venue.None : _venues[from];
        if (rules.verifiedOnly) {
            if (from != address(0) && fromKind == Venue.None) _requireVerified(from);
            if (toKind == Venue.None) _requireVerified(to);
        }
        if (from != address(0) && from != creator && fromKind == Venue.None) {
            bool sale = operator != from || toKind == Venue.Sale;
            if (sale && rules.noResale) revert TransferPolicyResaleForbidden(msg.sender, id, from, operator);
            bool throughVenue = sale && _venues[operator] == Venue.Sale;
            if (!throughVenue && rules.holdingPeriod != 0) {
                uint64 since = _acquired[_key(msg.sender, id, from)];
                uint64 allowedAt = since + rules.holdingPeriod;
                if (since != 0 && block.timestamp < allowedAt) {
                    revert TransferPolicyHoldingPeriod(msg.sender, id, from, allowedAt);
                }
            }
        }
        if (toKind == Venue.None && to != creator) _acquired[_key(msg.sender, id, to)] = uint64(block.timestamp);
    }

    /// @inheritdoc ITransferPolicy
    function setRules(address collection, Rules calldata rules) external onlyRole(POLICY_ADMIN_ROLE) {
        if (rules.verifiedOnly && address(_identity) == address(0)) revert TransferPolicyIdentityRegistryMissing();
        _rules[collection] = rules;
        emit RulesUpdated(collection, rules.active, rules.noResale, rules.verifiedOnly, rules.holdingPeriod);
        address wanted = rules.active ? address(this) : address(0);
        if (ITransferPolicyHost(collection).transferPolicy() != wanted) {
            ITransferPolicyHost(collection).setTransferPolicy(wanted);
        }
    }

    /// @inheritdoc ITransferPolicy
    function setVenue(address account, Venue kind) external onlyRole(POLICY_ADMIN_ROLE) {
        _venues[account] = kind;
        emit VenueUpdated(account, kind);
    }

    /// @inheritdoc ITransferPolicy
    function setIdentityRegistry(address registry) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _identity = IIdentityRegistry(registry);
        emit IdentityRegistryUpdated(registry);
    }

    /// @inheritdoc ITransferPolicy
    function rulesOf(address collection) external view returns (Rules memory) {
        return _rules[collection];
    }

    /// @inheritdoc ITransferPolicy
    function venueOf(address account) external view returns (Venue) {
        return _venues[account];
    }

    /// @inheritdoc ITransferPolicy
    function acquiredAt(address collection, uint256 id, address holder) external view returns (uint64) {
        return _acquired[_key(collection, id, holder)];
    }

    /// @inheritdoc ITransferPolicy
    function identityRegistry() external view returns (address) {
        return address(_identity);
    }

    function _requireVerified(address account) private view {
        if (!_identity.isVerified(account)) revert TransferPolicyNotVerified(msg.sender, account);
    }

    function _key(address collection, uint256 id, address holder) private pure returns (bytes32) {
        return keccak256(abi.encode(collection, id, holder));
    }
}
