// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRightsRegistry} from "../interfaces/IRightsRegistry.sol";

/// @title Cid
/// @notice IPFS CIDs in their compact form: a binary CIDv1 whose codec and multihash code are one-byte
///         varints and whose digest is 32 bytes (36 bytes: 0x01, codec, hash code, 0x20, digest), e.g.
///         raw-leaves `bafkrei...` (codec 0x55) and dag-pb `bafybei...` (0x70) with sha2-256 (0x12).
///         Stored as a 16-bit head (codec << 8 | hash code) and the digest; rendered as the
///         multibase base32 string (`b` + RFC 4648 lower-case, no padding) IPFS prints for CIDv1.
library Cid {
    /// @notice Length of a supported binary CID.
    uint256 internal constant LENGTH = 36;

    bytes32 private constant _BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// @notice Split a binary CID into head and digest.
    /// @dev Reverts with `CidUnsupported(cid)` unless `cid` is a supported binary CIDv1.
    function pack(bytes calldata cid) internal pure returns (uint16 head, bytes32 digest) {
        if (cid.length != LENGTH || uint8(cid[0]) != 0x01 || uint8(cid[1]) >= 0x80 || uint8(cid[2]) >= 0x80
            || uint8(cid[3]) != 0x20) {
            revert IRightsRegistry.CidUnsupported(cid);
        }
        head = (uint16(uint8(cid[1])) << 8) | uint16(uint8(cid[2]));
        digest = bytes32(cid[4:LENGTH]);
    }

    /// @notice The binary CID of `head` and `digest`.
    function toBytes(uint16 head, bytes32 digest) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(0x01), head, uint8(0x20), digest);
    }

    /// @notice The CID as IPFS prints it: `b` followed by the base32 of the binary CID (59 characters).
    function toString(uint16 head, bytes32 digest) internal pure returns (string memory) {
        bytes memory data = toBytes(head, digest);
        bytes memory out = new bytes(1 + (LENGTH * 8 + 4) / 5);
        out[0] = "b";
        uint256 buffer = 0;
        uint256 bits = 0;
        uint256 j = 1;
        for (uint256 i; i < LENGTH; ++i) {
            buffer = (buffer << 8) | uint8(data[i]);
            bits += 8;
            while (bits >= 5) {
                bits -= 5;
                out[j++] = _BASE32[(buffer >> bits) & 31];
            }
        }
        if (bits > 0) out[j] = _BASE32[(buffer << (5 - bits)) & 31];
        return string(out);
    }
}
