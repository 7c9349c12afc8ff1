// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ILicensing
/// @notice License terms published once and addressed by hash, attached to works (ERC-721 tokens) by
///         their owners, and bought as grants that expire, can be revoked (when the terms say so) and
///         transferred (when the terms say so).
/// @dev Rules:
///      - Terms are immutable once published; `termsHash = keccak256(abi.encode(terms))`.
///      - Attachments are append-only: the current owner of a work (the licensor) adds terms to the
///        work's offer; terms are never removed or changed, so no grant's terms can ever be weakened
///        (a grant points at its terms hash forever).
///      - Buying pays the exact fee to the work's ERC-2981 royalty receiver (normally its
///        RoyaltySplitter), or to the work's owner when the collection names none. If that push
///        fails the receiver is credited and withdraws later: a bad receiver never blocks a sale.
///      - Revocation is by the work's current owner and only under revocable terms.
interface ILicensing {
    /// @notice License terms. Field order is part of the hash.
    /// @param commercialUse The licensee may use the work commercially.
    /// @param derivativesAllowed The licensee may make derivative works.
    /// @param attributionRequired The licensee must credit the work.
    /// @param transferable The licensee may transfer the grant (otherwise it is personal).
    /// @param revocable The licensor may revoke the grant.
    /// @param derivativeRevenueShareBps Share of derivative revenue owed to the licensor (0..10000).
    /// @param duration Seconds a grant lasts from purchase; 0 = perpetual.
    /// @param fee Price of a grant in wei (exact).
    /// @param territories ISO 3166-1 alpha-2 codes, strictly ascending; empty = worldwide.
    /// @param legalTextCid IPFS CID of the legal text (non-empty).
    struct LicenseTerms {
        bool commercialUse;
        bool derivativesAllowed;
        bool attributionRequired;
        bool transferable;
        bool revocable;
        uint16 derivativeRevenueShareBps;
        uint64 duration;
        uint256 fee;
        bytes2[] territories;
        string legalTextCid;
    }

    /// @notice A license bought for a work.
    /// @param licensee Current holder.
    /// @param start Purchase time.
    /// @param revoked Revoked by the licensor.
    /// @param collection The work's ERC-721 collection.
    /// @param expiry Time from which the grant no longer counts; 0 = perpetual.
    /// @param tokenId The work's token id.
    /// @param termsHash The terms it was bought under.
    struct Grant {
        address licensee;
        uint64 start;
        bool revoked;
        address collection;
        uint64 expiry;
        uint256 tokenId;
        bytes32 termsHash;
    }

    // ---------------------------------------------------------------- errors

    /// @notice These terms are already published.
    error LicenseTermsAlreadyPublished(bytes32 termsHash);
    /// @notice No terms are published under this hash.
    error LicenseTermsUnknown(bytes32 termsHash);
    /// @notice The derivative revenue share exceeds 10000 bps.
    error LicenseTermsShareTooHigh(uint16 bps);
    /// @notice The territory at `index` is not two upper-case letters.
    error LicenseTermsTerritoryInvalid(uint256 index, bytes2 code);
    /// @notice The territory at `index` is not greater than the one before (unsorted or duplicate).
    error LicenseTermsTerritoriesNotAscending(uint256 index);
    /// @notice The legal text CID is empty.
    error LicenseTermsLegalTextMissing();
    /// @notice The work does not exist (the collection answers neither `ownerOf` for it nor, as an
    ///         ERC-1155 collection, `workCid` and `owner()`).
    error LicenseWorkUnknown(address collection, uint256 tokenId);
    /// @notice `caller` is not the work's licensor (its owner, or an ERC-1155 collection's owner).
    error LicenseNotWorkOwner(address collection, uint256 tokenId, address caller);
    /// @notice These terms are already attached to the work.
    error LicenseTermsAlreadyAttached(address collection, uint256 tokenId, bytes32 termsHash);
    /// @notice These terms are not attached to the work.
    error LicenseTermsNotAttached(address collection, uint256 tokenId, bytes32 termsHash);
    /// @notice The value sent is not the fee.
    error LicenseFeeMismatch(uint256 expected, uint256 sent);
    /// @notice No grant has this id.
    error LicenseGrantUnknown(uint256 grantId);
    /// @notice The grant's terms are not revocable.
    error LicenseNotRevocable(uint256 grantId);
    /// @notice The grant's terms are personal.
    error LicenseNotTransferable(uint256 grantId);
    /// @notice The grant is revoked.
    error LicenseGrantRevoked(uint256 grantId);
    /// @notice The grant expired at `expiredAt`.
    error LicenseExpired(uint256 grantId, uint64 expiredAt);
    /// @notice `caller` does not hold the grant.
    error LicenseNotLicensee(uint256 grantId, address caller);
    /// @notice A grant cannot go to `to` (zero address or its current holder).
    error LicenseRecipientInvalid(address to);
    /// @notice `account` has no credited fees.
    error LicenseNoCredit(address account);
    /// @notice Paying `amount` wei of credits to `to` failed.
    error LicenseCreditTransferFailed(address to, uint256 amount);
    /// @notice `usage` has bits no usage is defined for.
    error LicenseUsageUnknown(uint8 usage);

    // ---------------------------------------------------------------- events

    /// @notice Terms were published under `termsHash` by `publisher`.
    event LicenseTermsPublished(bytes32 indexed termsHash, address indexed publisher, LicenseTerms terms);
    /// @notice `licensor` (the work's owner) attached `termsHash` to the work.
    event LicenseTermsAttached(
        address indexed collection, uint256 indexed tokenId, bytes32 indexed termsHash, address licensor
    );
    /// @notice Grant `grantId` was bought by `licensee` for the work under `termsHash` for `fee` wei.
    event LicenseGranted(
        uint256 indexed grantId,
        address indexed licensee,
        address indexed collection,
        uint256 tokenId,
        bytes32 termsHash,
        uint64 start,
        uint64 expiry,
        uint256 fee
    );
    /// @notice The fee of `grantId` was paid to `receiver`.
    event LicenseFeePaid(uint256 indexed grantId, address indexed receiver, uint256 amount);
    /// @notice The fee of `grantId` could not be pushed and was credited to `receiver` instead.
    event LicenseFeeCredited(uint256 indexed grantId, address indexed receiver, uint256 amount);
    /// @notice `account` withdrew `amount` wei of credited fees to `to`.
    event LicenseCreditWithdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice `licensor` revoked grant `grantId`.
    event LicenseRevoked(uint256 indexed grantId, address indexed licensor);
    /// @notice Grant `grantId` moved from `from` to `to`.
    event LicenseTransferred(uint256 indexed grantId, address indexed from, address indexed to);

    // ---------------------------------------------------------------- writes

    /// @notice Publish `terms`; they can never change afterwards.
    /// @dev Anyone may call. Emits `LicenseTermsPublished`. Reverts `LicenseTermsAlreadyPublished`,
    ///      `LicenseTermsShareTooHigh`, `LicenseTermsTerritoryInvalid`,
    ///      `LicenseTermsTerritoriesNotAscending`, `LicenseTermsLegalTextMissing`.
    /// @return termsHash keccak256(abi.encode(terms)).
    function publishTerms(LicenseTerms calldata terms) external returns (bytes32 termsHash);

    /// @notice Offer published terms for a work (append-only; never removed).
    /// @dev Only the work's licensor: the token's current owner (ERC-721) or the collection's owner
    ///      (ERC-1155). Emits `LicenseTermsAttached`. Reverts `LicenseTermsUnknown`,
    ///      `LicenseWorkUnknown`, `LicenseNotWorkOwner`, `LicenseTermsAlreadyAttached`.
    function attachTerms(address collection, uint256 tokenId, bytes32 termsHash) external;

    /// @notice Buy a grant for the work under attached terms, paying exactly the fee.
    /// @dev Anyone may call. Emits `LicenseGranted`, then `LicenseFeePaid` or `LicenseFeeCredited`
    ///      (none for a zero fee). Reverts `LicenseTermsUnknown`, `LicenseTermsNotAttached`,
    ///      `LicenseWorkUnknown`, `LicenseFeeMismatch`, `ReentrancyGuardReentrantCall`.
    /// @return grantId The new grant.
    function buyLicense(address collection, uint256 tokenId, bytes32 termsHash)
        external
        payable
        returns (uint256 grantId);

    /// @notice Revoke a grant.
    /// @dev Only the work's licensor (as `attachTerms`), only under revocable terms. Emits `LicenseRevoked`.
    ///      Reverts `LicenseGrantUnknown`, `LicenseNotRevocable`, `LicenseGrantRevoked`,
    ///      `LicenseWorkUnknown`, `LicenseNotWorkOwner`.
    function revokeLicense(uint256 grantId) external;

    /// @notice Transfer a grant to `to`.
    /// @dev Only its licensee, only under transferable terms, only while neither revoked nor expired.
    ///      Emits `LicenseTransferred`. Reverts `LicenseGrantUnknown`, `LicenseNotLicensee`,
    ///      `LicenseNotTransferable`, `LicenseGrantRevoked`, `LicenseExpired`, `LicenseRecipientInvalid`.
    function transferLicense(uint256 grantId, address to) external;

    /// @notice Withdraw the fees credited to the caller (pushes that failed) to `to`.
    /// @dev Anyone with credits. Emits `LicenseCreditWithdrawn`. Reverts `LicenseRecipientInvalid`,
    ///      `LicenseNoCredit`, `LicenseCreditTransferFailed`, `ReentrancyGuardReentrantCall`.
    function withdrawCredit(address payable to) external returns (uint256 amount);

    // ---------------------------------------------------------------- views

    /// @notice Whether `licensee` holds a live grant for the work whose terms allow `usage`.
    /// @param usage Bitmask: 0 = any use the terms allow; USAGE_COMMERCIAL, USAGE_DERIVATIVE,
    ///        USAGE_WITHOUT_ATTRIBUTION may be combined. Live = not revoked and not expired.
    /// @dev Reverts `LicenseUsageUnknown` for undefined bits.
    function isLicensed(address licensee, address collection, uint256 tokenId, uint8 usage)
        external
        view
        returns (bool);

    /// @notice As `isLicensed`, and the terms also cover `territory` (ISO 3166-1 alpha-2).
    function isLicensedIn(address licensee, address collection, uint256 tokenId, uint8 usage, bytes2 territory)
        external
        view
        returns (bool);

    /// @notice keccak256(abi.encode(terms)), the hash terms are published under.
    function hashTerms(LicenseTerms calldata terms) external pure returns (bytes32);

    /// @notice Published terms (reverts `LicenseTermsUnknown`).
    function termsOf(bytes32 termsHash) external view returns (LicenseTerms memory);

    /// @notice Whether terms are published under `termsHash`.
    function isPublished(bytes32 termsHash) external view returns (bool);

    /// @notice The terms attached to a work, in attachment order.
    function attachedTerms(address collection, uint256 tokenId) external view returns (bytes32[] memory);

    /// @notice Whether `termsHash` is attached to the work.
    function isAttached(address collection, uint256 tokenId, bytes32 termsHash) external view returns (bool);

    /// @notice A grant (reverts `LicenseGrantUnknown`).
    function grantOf(uint256 grantId) external view returns (Grant memory);

    /// @notice The grants `licensee` currently holds for the work (live or not).
    function grantsOf(address licensee, address collection, uint256 tokenId) external view returns (uint256[] memory);

    /// @notice Fees credited to `account` after failed pushes.
    function creditOf(address account) external view returns (uint256);
}
