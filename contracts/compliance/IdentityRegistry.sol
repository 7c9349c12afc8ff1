// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IIdentityRegistry} from "../interfaces/IIdentityRegistry.sol";

/// @title IdentityRegistry
/// @notice Address -> (KYC level, country, expiry), written by operators; see IIdentityRegistry.
/// @dev The admin (DEFAULT_ADMIN_ROLE) grants and revokes OPERATOR_ROLE. Country codes are checked
///      for shape (two upper-case letters), not against the list of assigned ISO 3166 codes.
contract IdentityRegistry is IIdentityRegistry, AccessControl {
    /// @inheritdoc IIdentityRegistry
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    mapping(address account => Identity) private _identities;

    /// @param admin Holds DEFAULT_ADMIN_ROLE (grants and revokes operators).
    constructor(address admin) {
        if (admin == address(0)) revert IdentityZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IIdentityRegistry
    function registerIdentity(address account, uint8 level, bytes2 country, uint64 expiresAt)
        external
        onlyRole(OPERATOR_ROLE)
    {
        if (_identities[account].level != 0) revert IdentityAlreadyRegistered(account);
        _write(account, level, country, expiresAt);
    }

    /// @inheritdoc IIdentityRegistry
    function updateIdentity(address account, uint8 level, bytes2 country, uint64 expiresAt)
        external
        onlyRole(OPERATOR_ROLE)
    {
        if (_identities[account].level == 0) revert IdentityNotRegistered(account);
        _write(account, level, country, expiresAt);
    }

    /// @inheritdoc IIdentityRegistry
    function batchSetIdentities(
        address[] calldata accounts,
        uint8[] calldata levels,
        bytes2[] calldata countries,
        uint64[] calldata expiries
    ) external onlyRole(OPERATOR_ROLE) {
        uint256 n = accounts.length;
        if (levels.length != n || countries.length != n || expiries.length != n) {
            revert IdentityBatchLengthMismatch(n, levels.length, countries.length, expiries.length);
        }
        for (uint256 i = 0; i < n; ++i) {
            _write(accounts[i], levels[i], countries[i], expiries[i]);
        }
    }

    /// @inheritdoc IIdentityRegistry
    function revokeIdentity(address account) external onlyRole(OPERATOR_ROLE) {
        Identity storage identity = _identities[account];
        if (identity.level == 0) revert IdentityNotRegistered(account);
        if (identity.revoked) revert IdentityAlreadyRevoked(account);
        identity.revoked = true;
        emit IdentityRevoked(account, msg.sender);
    }

    /// @inheritdoc IIdentityRegistry
    function isVerified(address account) external view returns (bool) {
        Identity memory identity = _identities[account];
        return identity.level > 0 && !identity.revoked && block.timestamp < identity.expiresAt;
    }

    /// @inheritdoc IIdentityRegistry
    function identityOf(address account) external view returns (Identity memory) {
        return _identities[account];
    }

    /// @dev Validates and stores a record; emits Registered for a new account, Updated otherwise.
    function _write(address account, uint8 level, bytes2 country, uint64 expiresAt) private {
        if (account == address(0)) revert IdentityZeroAddress();
        if (level == 0) revert IdentityLevelZero(account);
        if (!_isUpperAlpha(country[0]) || !_isUpperAlpha(country[1])) revert IdentityCountryInvalid(account, country);
        if (expiresAt <= block.timestamp) revert IdentityExpiryInPast(account, expiresAt);
        bool isNew = _identities[account].level == 0;
        _identities[account] = Identity({level: level, country: country, expiresAt: expiresAt, revoked: false});
        if (isNew) {
            emit IdentityRegistered(account, level, country, expiresAt, msg.sender);
        } else {
            emit IdentityUpdated(account, level, country, expiresAt, msg.sender);
        }
    }

    function _isUpperAlpha(bytes1 c) private pure returns (bool) {
        return c >= 0x41 && c <= 0x5A;
    }
}
