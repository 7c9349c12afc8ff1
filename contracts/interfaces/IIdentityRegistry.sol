// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IIdentityRegistry
/// @notice The identity registry (ERC-3643-inspired) as other contracts see it: whether an address
///         has passed KYC and its verification has not expired. Written by the KYC flow (operators).
/// @dev An identity is (KYC level, ISO 3166-1 alpha-2 country, expiry). An account is registered once
///      it has a level > 0; `isVerified` also needs the expiry in the future and no revocation.
interface IIdentityRegistry {
    /// @notice One account's identity record.
    /// @param level KYC level; 0 means no record.
    /// @param country ISO 3166-1 alpha-2 code, two upper-case ASCII letters (e.g. "FR").
    /// @param expiresAt Unix time at which the verification stops counting.
    /// @param revoked Set by `revokeIdentity`, cleared by the next update.
    struct Identity {
        uint8 level;
        bytes2 country;
        uint64 expiresAt;
        bool revoked;
    }

    // ---------------------------------------------------------------- errors

    /// @notice The account is the zero address.
    error IdentityZeroAddress();
    /// @notice KYC level 0 cannot be written (it means "no record").
    error IdentityLevelZero(address account);
    /// @notice `country` is not two upper-case ASCII letters.
    error IdentityCountryInvalid(address account, bytes2 country);
    /// @notice `expiresAt` is not in the future.
    error IdentityExpiryInPast(address account, uint64 expiresAt);
    /// @notice `account` already has a record (use `updateIdentity`).
    error IdentityAlreadyRegistered(address account);
    /// @notice `account` has no record.
    error IdentityNotRegistered(address account);
    /// @notice `account`'s record is already revoked.
    error IdentityAlreadyRevoked(address account);
    /// @notice The batch arrays differ in length.
    error IdentityBatchLengthMismatch(uint256 accounts, uint256 levels, uint256 countries, uint256 expiries);

    // ---------------------------------------------------------------- events

    /// @notice `account` got its first record.
    event IdentityRegistered(address indexed account, uint8 level, bytes2 country, uint64 expiresAt, address indexed by);
    /// @notice `account`'s record was rewritten (this also lifts a revocation).
    event IdentityUpdated(address indexed account, uint8 level, bytes2 country, uint64 expiresAt, address indexed by);
    /// @notice `account`'s record was revoked.
    event IdentityRevoked(address indexed account, address indexed by);

    // ---------------------------------------------------------------- writes

    /// @notice Record the first identity of `account`.
    /// @dev Only an operator. Emits `IdentityRegistered`. Reverts `AccessControlUnauthorizedAccount`,
    ///      `IdentityZeroAddress`, `IdentityLevelZero`, `IdentityCountryInvalid`, `IdentityExpiryInPast`,
    ///      `IdentityAlreadyRegistered`.
    function registerIdentity(address account, uint8 level, bytes2 country, uint64 expiresAt) external;

    /// @notice Rewrite the identity of a registered `account` (a new KYC result); lifts a revocation.
    /// @dev Only an operator. Emits `IdentityUpdated`. Reverts as `registerIdentity`, and
    ///      `IdentityNotRegistered` instead of `IdentityAlreadyRegistered`.
    function updateIdentity(address account, uint8 level, bytes2 country, uint64 expiresAt) external;

    /// @notice Register or update many identities at once (the KYC flow's batch).
    /// @dev Only an operator. Emits `IdentityRegistered` or `IdentityUpdated` per account. Reverts
    ///      `IdentityBatchLengthMismatch` and as `registerIdentity` for any entry (the whole batch).
    function batchSetIdentities(
        address[] calldata accounts,
        uint8[] calldata levels,
        bytes2[] calldata countries,
        uint64[] calldata expiries
    ) external;

    /// @notice Revoke `account`'s verification (the record is kept).
    /// @dev Only an operator. Emits `IdentityRevoked`. Reverts `AccessControlUnauthorizedAccount`,
    ///      `IdentityNotRegistered`, `IdentityAlreadyRevoked`.
    function revokeIdentity(address account) external;

    // ---------------------------------------------------------------- views

    /// @notice True when `account` holds an unexpired, unrevoked identity verification.
    function isVerified(address account) external view returns (bool);

    /// @notice `account`'s record (all zero when it has none).
    function identityOf(address account) external view returns (Identity memory);

    /// @notice The role that may write identities.
    function OPERATOR_ROLE() external view returns (bytes32);
}
