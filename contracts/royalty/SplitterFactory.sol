// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ISplitterFactory} from "../interfaces/ISplitterFactory.sol";

/// @title SplitterFactory
/// @notice Creates RoyaltySplitter clones at deterministic addresses; see ISplitterFactory.
/// @dev The split travels as the clone's immutable args, `recipient || uint16 bps` per recipient
///      (22 bytes each), which RoyaltySplitter reads from its own code.
contract SplitterFactory is ISplitterFactory {
    /// @notice Basis points of a whole payment.
    uint256 public constant TOTAL_BPS = 10_000;
    /// @notice Most recipients one split may have (bounds the gas of a distribution).
    uint256 public constant MAX_RECIPIENTS = 100;
    /// @notice The three-level preset: rights holder, issuer, channel.
    uint16 public constant RIGHTS_HOLDER_BPS = 3_000;
    uint16 public constant ISSUER_BPS = 4_000;
    uint16 public constant CHANNEL_BPS = 3_000;

    /// @inheritdoc ISplitterFactory
    address public immutable implementation;

    /// @param implementation_ The deployed RoyaltySplitter implementation.
    constructor(address implementation_) {
        if (implementation_.code.length == 0) revert SplitterFactoryImplementationHasNoCode(implementation_);
        implementation = implementation_;
    }

    /// @inheritdoc ISplitterFactory
    function createSplitter(address[] calldata recipients, uint16[] calldata bps, bytes32 salt)
        external
        returns (address splitter)
    {
        return _create(recipients, bps, salt);
    }

    /// @inheritdoc ISplitterFactory
    function createThreeWaySplit(address rightsHolder, address issuer, address channel, bytes32 salt)
        external
        returns (address splitter)
    {
        (address[] memory recipients, uint16[] memory bps) = threeWaySplit(rightsHolder, issuer, channel);
        return _create(recipients, bps, salt);
    }

    /// @inheritdoc ISplitterFactory
    function predictSplitterAddress(address[] calldata recipients, uint16[] calldata bps, bytes32 salt)
        external
        view
        returns (address)
    {
        return Clones.predictDeterministicAddressWithImmutableArgs(implementation, _pack(recipients, bps), salt);
    }

    /// @inheritdoc ISplitterFactory
    function predictThreeWaySplitAddress(address rightsHolder, address issuer, address channel, bytes32 salt)
        external
        view
        returns (address)
    {
        (address[] memory recipients, uint16[] memory bps) = threeWaySplit(rightsHolder, issuer, channel);
        return Clones.predictDeterministicAddressWithImmutableArgs(implementation, _pack(recipients, bps), salt);
    }

    /// @inheritdoc ISplitterFactory
    function threeWaySplit(address rightsHolder, address issuer, address channel)
        public
        pure
        returns (address[] memory recipients, uint16[] memory bps)
    {
        address[3] memory who = [rightsHolder, issuer, channel];
        uint16[3] memory share = [RIGHTS_HOLDER_BPS, ISSUER_BPS, CHANNEL_BPS];
        // Merge roles held by one address.
        uint256 n = 0;
        for (uint256 i = 0; i < 3; ++i) {
            bool merged = false;
            for (uint256 j = 0; j < n; ++j) {
                if (who[j] == who[i]) {
                    share[j] += share[i];
                    merged = true;
                    break;
                }
            }
            if (!merged) {
                who[n] = who[i];
                share[n] = share[i];
                ++n;
            }
        }
        // Insertion sort by address (at most three entries).
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && who[j - 1] > who[j]; --j) {
                (who[j - 1], who[j]) = (who[j], who[j - 1]);
                (share[j - 1], share[j]) = (share[j], share[j - 1]);
            }
        }
        recipients = new address[](n);
        bps = new uint16[](n);
        for (uint256 i = 0; i < n; ++i) {
            recipients[i] = who[i];
            bps[i] = share[i];
        }
    }

    function _create(address[] memory recipients, uint16[] memory bps, bytes32 salt)
        private
        returns (address splitter)
    {
        bytes memory args = _pack(recipients, bps);
        address predicted = Clones.predictDeterministicAddressWithImmutableArgs(implementation, args, salt);
        if (predicted.code.length != 0) return predicted; // already created: the address commits to the split
        splitter = Clones.cloneDeterministicWithImmutableArgs(implementation, args, salt);
        emit SplitterCreated(splitter, msg.sender, salt, recipients, bps);
    }

    /// @dev Validates the split and packs it as the clone's immutable args.
    function _pack(address[] memory recipients, uint16[] memory bps) private pure returns (bytes memory args) {
        uint256 n = recipients.length;
        if (n == 0) revert SplitNoRecipients();
        if (n > MAX_RECIPIENTS) revert SplitTooManyRecipients(n, MAX_RECIPIENTS);
        if (bps.length != n) revert SplitLengthMismatch(n, bps.length);
        if (recipients[0] == address(0)) revert SplitRecipientZero(0);
        uint256 total = 0;
        args = new bytes(n * 22);
        for (uint256 i = 0; i < n; ++i) {
            if (i > 0 && recipients[i] <= recipients[i - 1]) revert SplitRecipientsNotAscending(i);
            if (bps[i] == 0) revert SplitShareZero(i);
            total += bps[i];
            bytes32 entry = bytes32(bytes20(recipients[i])) | (bytes32(bytes2(bps[i])) >> 160);
            // Entries are written in order, so each 32-byte store only spills into the next entry's
            // bytes (rewritten next) or, for the last, past the array into unallocated memory.
            assembly ("memory-safe") {
                mstore(add(add(args, 0x20), mul(i, 22)), entry)
            }
        }
        if (total != TOTAL_BPS) revert SplitSharesTotalWrong(total);
    }
}
