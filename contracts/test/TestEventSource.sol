// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title TestEventSource (test helper)
/// @notice An event source for the indexer's tests: a factory that announces children, and
///         children that emit token-shaped events. Not deployed by the platform.
contract TestEventChild {
    event Pinged(uint256 indexed tokenId, address indexed who, string note);

    function ping(uint256 tokenId, string calldata note) external {
        emit Pinged(tokenId, msg.sender, note);
    }
}

contract TestEventFactory {
    event ChildCreated(address indexed child, address indexed creator);

    function create() external returns (address child) {
        child = address(new TestEventChild());
        emit ChildCreated(child, msg.sender);
    }
}
