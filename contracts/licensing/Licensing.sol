// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ILicensing} from "../interfaces/ILicensing.sol";

/// @title Licensing
/// @notice Publish license terms, attach them to works, sell, revoke and transfer grants; see ILicensing.
/// @dev One contract for every collection: a work is (collection, token id). Its licensor is, for an
///      ERC-721 work, whoever owns that token at the time of the call; for an ERC-1155 work (many
///      holders of one id, e.g. an `Editions1155` edition), the collection's `owner()`, the creator who
///      issued the work, provided the collection knows the work (`workCid(id)` answers). Fees never stay here except as credits for
///      receivers whose push failed (`withdrawCredit`).
contract Licensing is ILicensing, ReentrancyGuardTransient {
    /// @notice `isLicensed` usage bit: commercial use.
    uint8 public constant USAGE_COMMERCIAL = 1;
    /// @notice `isLicensed` usage bit: making derivative works.
    uint8 public constant USAGE_DERIVATIVE = 2;
    /// @notice `isLicensed` usage bit: use without crediting the work.
    uint8 public constant USAGE_WITHOUT_ATTRIBUTION = 4;
    /// @notice Gas forwarded when pushing a fee to its receiver; beyond it the fee is credited instead,
    ///         so a receiver that burns gas cannot make sales fail. Enough for a splitter clone or a wallet.
    uint256 public constant FEE_PUSH_GAS = 50_000;

    uint8 private constant USAGE_ALL = USAGE_COMMERCIAL | USAGE_DERIVATIVE | USAGE_WITHOUT_ATTRIBUTION;
    uint16 private constant TOTAL_BPS = 10_000;

    /// @notice The id the next grant gets (ids start at 1).
    uint256 public nextGrantId = 1;

    mapping(bytes32 termsHash => LicenseTerms) private _terms;
    mapping(address collection => mapping(uint256 tokenId => bytes32[])) private _attached;
    mapping(address collection => mapping(uint256 tokenId => mapping(bytes32 termsHash => bool))) private _isAttached;
    mapping(uint256 grantId => Grant) private _grants;
    mapping(address licensee => mapping(address collection => mapping(uint256 tokenId => uint256[]))) private _holdings;
    mapping(address account => uint256 amount) private _credits;

    // ------------------------------------------------------------------ writes

    /// @inheritdoc ILicensing
    function publishTerms(LicenseTerms calldata terms) external returns (bytes32 termsHash) {
        if (terms.derivativeRevenueShareBps > TOTAL_BPS) revert LicenseTermsShareTooHigh(terms.derivativeRevenueShareBps);
        bytes2[] calldata territories = terms.territories;
        for (uint256 i = 0; i < territories.length; ++i) {
            if (!_isUpperAlpha(territories[i][0]) || !_isUpperAlpha(territories[i][1])) {
                revert LicenseTermsTerritoryInvalid(i, territories[i]);
            }
            if (i > 0 && territories[i] <= territories[i - 1]) revert LicenseTermsTerritoriesNotAscending(i);
        }
        if (bytes(terms.legalTextCid).length == 0) revert LicenseTermsLegalTextMissing();
        termsHash = keccak256(abi.encode(terms));
        if (_isPublished(termsHash)) revert LicenseTermsAlreadyPublished(termsHash);
        _terms[termsHash] = terms;
        emit LicenseTermsPublished(termsHash, msg.sender, terms);
    }

    /// @inheritdoc ILicensing
    function attachTerms(address collection, uint256 tokenId, bytes32 termsHash) external {
        if (!_isPublished(termsHash)) revert LicenseTermsUnknown(termsHash);
        if (_ownerOf(collection, tokenId) != msg.sender) revert LicenseNotWorkOwner(collection, tokenId, msg.sender);
        if (_isAttached[collection][tokenId][termsHash]) {
            revert LicenseTermsAlreadyAttached(collection, tokenId, termsHash);
        }
        _isAttached[collection][tokenId][termsHash] = true;
        _attached[collection][tokenId].push(termsHash);
        emit LicenseTermsAttached(collection, tokenId, termsHash, msg.sender);
    }

    /// @inheritdoc ILicensing
    function buyLicense(address collection, uint256 tokenId, bytes32 termsHash)
        external
        payable
        nonReentrant
        returns (uint256 grantId)
    {
        // Checks
        if (!_isPublished(termsHash)) revert LicenseTermsUnknown(termsHash);
        if (!_isAttached[collection][tokenId][termsHash]) {
            revert LicenseTermsNotAttached(collection, tokenId, termsHash);
        }
        LicenseTerms storage terms = _terms[termsHash];
        uint256 fee = terms.fee;
        if (msg.value != fee) revert LicenseFeeMismatch(fee, msg.value);
        address owner = _ownerOf(collection, tokenId); // the work must still exist
        address receiver = fee == 0 ? address(0) : _feeReceiver(collection, tokenId, fee, owner);

        // Effects
        uint64 start = uint64(block.timestamp);
        uint64 expiry = _expiry(start, terms.duration);
        grantId = nextGrantId++;
        _grants[grantId] = Grant({
            licensee: msg.sender,
            start: start,
            revoked: false,
            collection: collection,
            expiry: expiry,
            tokenId: tokenId,
            termsHash: termsHash
        });
        _holdings[msg.sender][collection][tokenId].push(grantId);
        emit LicenseGranted(grantId, msg.sender, collection, tokenId, termsHash, start, expiry, fee);

        // Interactions
        if (fee != 0) _payFee(grantId, receiver, fee);
    }

    /// @inheritdoc ILicensing
    function revokeLicense(uint256 grantId) external {
        Grant storage grant = _grantAt(grantId);
        address collection = grant.collection;
        uint256 tokenId = grant.tokenId;
        if (_ownerOf(collection, tokenId) != msg.sender) revert LicenseNotWorkOwner(collection, tokenId, msg.sender);
        if (!_terms[grant.termsHash].revocable) revert LicenseNotRevocable(grantId);
        if (grant.revoked) revert LicenseGrantRevoked(grantId);
        grant.revoked = true;
        emit LicenseRevoked(grantId, msg.sender);
    }

    /// @inheritdoc ILicensing
    function transferLicense(uint256 grantId, address to) external {
        Grant storage grant = _grantAt(grantId);
        address from = grant.licensee;
        if (from != msg.sender) revert LicenseNotLicensee(grantId, msg.sender);
        if (!_terms[grant.termsHash].transferable) revert LicenseNotTransferable(grantId);
        if (grant.revoked) revert LicenseGrantRevoked(grantId);
        if (!_unexpired(grant.expiry)) revert LicenseExpired(grantId, grant.expiry);
        if (to == address(0) || to == from) revert LicenseRecipientInvalid(to);

        address collection = grant.collection;
        uint256 tokenId = grant.tokenId;
        _removeHolding(_holdings[from][collection][tokenId], grantId);
        _holdings[to][collection][tokenId].push(grantId);
        grant.licensee = to;
        emit LicenseTransferred(grantId, from, to);
    }

    /// @inheritdoc ILicensing
    function withdrawCredit(address payable to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert LicenseRecipientInvalid(to);
        amount = _credits[msg.sender];
        if (amount == 0) revert LicenseNoCredit(msg.sender);
        _credits[msg.sender] = 0;
        emit LicenseCreditWithdrawn(msg.sender, to, amount);
        bool ok;
        assembly ("memory-safe") {
            ok := call(gas(), to, amount, 0, 0, 0, 0)
        }
        if (!ok) revert LicenseCreditTransferFailed(to, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ILicensing
    function isLicensed(address licensee, address collection, uint256 tokenId, uint8 usage)
        external
        view
        returns (bool)
    {
        return _licensed(licensee, collection, tokenId, usage, false, 0);
    }

    /// @inheritdoc ILicensing
    function isLicensedIn(address licensee, address collection, uint256 tokenId, uint8 usage, bytes2 territory)
        external
        view
        returns (bool)
    {
        return _licensed(licensee, collection, tokenId, usage, true, territory);
    }

    /// @inheritdoc ILicensing
    function hashTerms(LicenseTerms calldata terms) external pure returns (bytes32) {
        return keccak256(abi.encode(terms));
    }

    /// @inheritdoc ILicensing
    function termsOf(bytes32 termsHash) external view returns (LicenseTerms memory) {
        if (!_isPublished(termsHash)) revert LicenseTermsUnknown(termsHash);
        return _terms[termsHash];
    }

    /// @inheritdoc ILicensing
    function isPublished(bytes32 termsHash) external view returns (bool) {
        return _isPublished(termsHash);
    }

    /// @inheritdoc ILicensing
    function attachedTerms(address collection, uint256 tokenId) external view returns (bytes32[] memory) {
        return _attached[collection][tokenId];
    }

    /// @inheritdoc ILicensing
    function isAttached(address collection, uint256 tokenId, bytes32 termsHash) external view returns (bool) {
        return _isAttached[collection][tokenId][termsHash];
    }

    /// @inheritdoc ILicensing
    function grantOf(uint256 grantId) external view returns (Grant memory) {
        return _grantAt(grantId);
    }

    /// @inheritdoc ILicensing
    function grantsOf(address licensee, address collection, uint256 tokenId) external view returns (uint256[] memory) {
        return _holdings[licensee][collection][tokenId];
    }

    /// @inheritdoc ILicensing
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    // ------------------------------------------------------------------ internals

    function _licensed(
        address licensee,
        address collection,
        uint256 tokenId,
        uint8 usage,
        bool checkTerritory,
        bytes2 territory
    ) private view returns (bool) {
        if (usage & ~USAGE_ALL != 0) revert LicenseUsageUnknown(usage);
        uint256[] storage held = _holdings[licensee][collection][tokenId];
        for (uint256 i = held.length; i > 0; --i) {
            Grant storage grant = _grants[held[i - 1]];
            if (grant.revoked || !_unexpired(grant.expiry)) continue;
            LicenseTerms storage terms = _terms[grant.termsHash];
            if (!_allows(terms, usage)) continue;
            if (checkTerritory && !_covers(terms.territories, territory)) continue;
            return true;
        }
        return false;
    }

    function _allows(LicenseTerms storage terms, uint8 usage) private view returns (bool) {
        if (usage & USAGE_COMMERCIAL != 0 && !terms.commercialUse) return false;
        if (usage & USAGE_DERIVATIVE != 0 && !terms.derivativesAllowed) return false;
        if (usage & USAGE_WITHOUT_ATTRIBUTION != 0 && terms.attributionRequired) return false;
        return true;
    }

    function _covers(bytes2[] storage territories, bytes2 territory) private view returns (bool) {
        uint256 n = territories.length;
        if (n == 0) return true; // worldwide
        for (uint256 i = 0; i < n; ++i) {
            if (territories[i] == territory) return true;
        }
        return false;
    }

    /// @dev Pushes the fee with bounded gas; credits the receiver when the push fails.
    function _payFee(uint256 grantId, address receiver, uint256 fee) private {
        bool ok;
        uint256 gasLimit = FEE_PUSH_GAS;
        assembly ("memory-safe") {
            ok := call(gasLimit, receiver, fee, 0, 0, 0, 0) // no returndata copy
        }
        if (ok) {
            emit LicenseFeePaid(grantId, receiver, fee);
        } else {
            _credits[receiver] += fee;
            emit LicenseFeeCredited(grantId, receiver, fee);
        }
    }

    /// @dev The ERC-2981 receiver of the work, or its owner when the collection names none.
    function _feeReceiver(address collection, uint256 tokenId, uint256 fee, address owner)
        private
        view
        returns (address receiver)
    {
        (bool ok, bytes memory data) =
            collection.staticcall(abi.encodeCall(IERC2981.royaltyInfo, (tokenId, fee)));
        if (ok && data.length >= 64) {
            uint256 word;
            assembly ("memory-safe") {
                word := mload(add(data, 0x20))
            }
            if (word != 0 && word >> 160 == 0) return address(uint160(word));
        }
        return owner;
    }

    /// @dev The licensor of the work: the ERC-721 token's owner, or for an ERC-1155 collection that
    ///      knows the work, the collection's owner. Reverts `LicenseWorkUnknown` when neither answers.
    function _ownerOf(address collection, uint256 tokenId) private view returns (address owner) {
        (bool ok, bytes memory data) = collection.staticcall(abi.encodeCall(IERC721.ownerOf, (tokenId)));
        owner = _addressIn(ok, data);
        if (owner != address(0)) return owner;
        if (_isErc1155(collection)) {
            (ok,) = collection.staticcall(abi.encodeWithSignature("workCid(uint256)", tokenId));
            if (ok) {
                (ok, data) = collection.staticcall(abi.encodeWithSignature("owner()"));
                owner = _addressIn(ok, data);
                if (owner != address(0)) return owner;
            }
        }
        revert LicenseWorkUnknown(collection, tokenId);
    }

    function _isErc1155(address collection) private view returns (bool) {
        (bool ok, bytes memory data) = collection.staticcall(
            abi.encodeCall(IERC165.supportsInterface, (type(IERC1155).interfaceId)));
        return ok && data.length >= 32 && abi.decode(data, (uint256)) == 1;
    }

    /// @dev The non-zero address a successful call returned, or zero.
    function _addressIn(bool ok, bytes memory data) private pure returns (address) {
        if (!ok || data.length < 32) return address(0);
        uint256 word;
        assembly ("memory-safe") {
            word := mload(add(data, 0x20))
        }
        return word >> 160 == 0 ? address(uint160(word)) : address(0);
    }

    function _grantAt(uint256 grantId) private view returns (Grant storage grant) {
        grant = _grants[grantId];
        if (grant.licensee == address(0)) revert LicenseGrantUnknown(grantId);
    }

    function _removeHolding(uint256[] storage held, uint256 grantId) private {
        uint256 n = held.length;
        for (uint256 i = 0; i < n; ++i) {
            if (held[i] == grantId) {
                held[i] = held[n - 1];
                held.pop();
                return;
            }
        }
    }

    function _expiry(uint64 start, uint64 duration) private pure returns (uint64) {
        if (duration == 0) return 0; // perpetual
        uint256 end = uint256(start) + duration;
        return end > type(uint64).max ? type(uint64).max : uint64(end);
    }

    function _unexpired(uint64 expiry) private view returns (bool) {
        return expiry == 0 || block.timestamp < expiry;
    }

    /// @dev Terms are stored only when published, and published terms have a non-empty legal text CID.
    function _isPublished(bytes32 termsHash) private view returns (bool) {
        return bytes(_terms[termsHash].legalTextCid).length != 0;
    }

    function _isUpperAlpha(bytes1 c) private pure returns (bool) {
        return c >= 0x41 && c <= 0x5A;
    }
}
