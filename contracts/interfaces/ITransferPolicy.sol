// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ITransferPolicy
/// @notice The platform's transfer rules per collection (a jurisdiction profile today; license terms
///         later, through the same hook), consulted by a collection on every balance change once the
///         policy is attached to it.
/// @dev A collection (the "host") keeps one policy address; zero means no policy and costs one SLOAD.
///      With a policy, every mint and transfer calls `checkTransfer`, which reverts to refuse it. The
///      rules and the acquisition times are keyed by the calling collection, so a contract that calls
///      the hook can only read and write its own entries.
interface ITransferPolicy {
    /// @notice A collection's jurisdiction profile.
    /// @param active False: no rules (the policy detaches itself from the collection).
    /// @param noResale Only the creator sells: a holder's token moves only by the holder's own hand
    ///        (no operator, no sale venue) and may not be deposited into a sale venue.
    /// @param verifiedOnly Sender (unless a mint or a venue) and recipient must be verified in the
    ///        identity registry.
    /// @param holdingPeriod Seconds a holder other than the creator must hold a token before it moves
    ///        it again outside a sale venue (a gift); 0: none.
    struct Rules {
        bool active;
        bool noResale;
        bool verifiedOnly;
        uint32 holdingPeriod;
    }

    /// @notice What an address is to the policy: nothing, a sale venue (a marketplace that fills
    ///         orders as operator or holds auction lots) or a bridge (tokens locked for another chain).
    enum Venue {
        None,
        Sale,
        Bridge
    }

    /// @notice Emitted when a policy admin sets a collection's rules.
    event RulesUpdated(address indexed collection, bool active, bool noResale, bool verifiedOnly,
                       uint32 holdingPeriod);
    /// @notice Emitted when a policy admin marks an address as a venue (or clears it).
    event VenueUpdated(address indexed account, Venue kind);
    /// @notice Emitted when the admin sets the identity registry the rules consult.
    event IdentityRegistryUpdated(address indexed registry);

    /// @notice The collection forbids resale and `holder`'s token `id` would be sold (moved by an
    ///         operator or into a sale venue).
    error TransferPolicyResaleForbidden(address collection, uint256 id, address holder, address operator);
    /// @notice `holder` received `id` at `acquiredAt`; it may move it from `allowedAt`.
    error TransferPolicyHoldingPeriod(address collection, uint256 id, address holder, uint64 allowedAt);
    /// @notice The collection admits verified identities only and `account` is not verified.
    error TransferPolicyNotVerified(address collection, address account);
    /// @notice Tokens of a collection with rules cannot leave for a chain where the rules do not hold.
    error TransferPolicyBridgeForbidden(address collection, uint256 id);
    /// @notice `verifiedOnly` needs an identity registry.
    error TransferPolicyIdentityRegistryMissing();

    /// @notice Refuse (revert) or admit a balance change of the calling collection.
    /// @dev Called by the collection itself for every mint (`from` zero) and transfer, with its
    ///      current owner as `creator` and `msg.sender` of the token call as `operator`. Records when
    ///      `to` acquired `id`. Reverts with the errors above.
    function checkTransfer(address creator, address operator, address from, address to, uint256 id,
                           uint256 amount) external;

    /// @notice Set `collection`'s rules and attach (active) or detach (inactive) this policy there.
    /// @dev Only POLICY_ADMIN_ROLE. The collection must accept this policy as the platform's (its
    ///      rights registry names it). Emits `RulesUpdated`. Reverts with
    ///      `TransferPolicyIdentityRegistryMissing` and the collection's errors.
    function setRules(address collection, Rules calldata rules) external;

    /// @notice Mark `account` as a sale venue or a bridge (or nothing). Only POLICY_ADMIN_ROLE.
    /// @dev Emits `VenueUpdated`.
    function setVenue(address account, Venue kind) external;

    /// @notice Set the identity registry `verifiedOnly` consults. Only DEFAULT_ADMIN_ROLE.
    /// @dev Emits `IdentityRegistryUpdated`.
    function setIdentityRegistry(address registry) external;

    /// @notice `collection`'s rules (all zero: none).
    function rulesOf(address collection) external view returns (Rules memory);
    /// @notice What `account` is to the policy.
    function venueOf(address account) external view returns (Venue);
    /// @notice When `holder` last received `id` of `collection` under the rules (0: never seen).
    function acquiredAt(address collection, uint256 id, address holder) external view returns (uint64);
    /// @notice The identity registry `verifiedOnly` consults.
    function identityRegistry() external view returns (address);
}

/// @title ITransferPolicyHost
/// @notice A collection that consults a transfer policy on every balance change.
interface ITransferPolicyHost {
    /// @notice Emitted when the collection's transfer policy changes (zero: none).
    event TransferPolicyUpdated(address indexed policy);
    /// @notice Only the platform's transfer policy (named by the rights registry) may attach itself.
    error TransferPolicyNotPlatform(address caller);

    /// @notice Attach `policy` (or detach with zero).
    /// @dev Only the platform's policy, as `IRightsRegistry.transferPolicy()` names it, and only
    ///      itself or zero. Emits `TransferPolicyUpdated`. Reverts with `TransferPolicyNotPlatform`.
    function setTransferPolicy(address policy) external;

    /// @notice The attached transfer policy (zero: none).
    function transferPolicy() external view returns (address);
}
