// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC2309} from "@openzeppelin/contracts/interfaces/IERC2309.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";

/// @title ERC721Core
/// @notice The ERC-721 core both of our collections share (CreatorCollection, WrappedCollection):
///         transfers, both `safeTransferFrom`, approvals, balances, name and symbol, with the
///         OpenZeppelin 5 errors (ERC-6093).
/// @dev As in OpenZeppelin 5, every change of hands goes through one function, `_update`: a mint
///      (`from` zero), a transfer, a burn (`to` zero). It is effects only (balances, the token
///      approval, the ownership word, the `Transfer` event) and never calls out.
///
///      The child owns the ownership storage: one packed word per token (or per checkpoint), the
///      holder in bits 0..159, the other 96 bits the child's. The core keeps its own state (balances,
///      approvals, name, symbol) in ERC-7201 namespaced storage (`chainright.storage.ERC721Core`), so
///      a child's storage layout, which the provenance proofs read (`chain/provenance/state.py`),
///      does not depend on the core.
///
///      Override rules. A child MUST implement:
///      - `_packedOf(tokenId)`: the token's ownership word (holder in bits 0..159, never zero for an
///        existing token); it MUST revert `ERC721NonexistentToken` for a token that does not exist.
///      - `_writeOwnership(from, to, tokenId, quantity, packed)`: store the move so that `_packedOf`
///        then names `to` (or reverts for a burned token). Storage and events only, no calls out.
///      - `tokenURI`.
///      A child MAY override:
///      - `_checkTransfer(from, to, tokenId)`: its own conditions on a holder's transfer (a pause,
///        a verified recipient), run after the ERC-721 checks and before any effect. View only.
///      - `transferFrom`, to call out after the move (e.g. a transfer policy): it MUST call
///        `super.transferFrom` first, so checks and effects come before the interaction.
///        `safeTransferFrom` goes through `transferFrom`, so it inherits the override.
///      - `supportsInterface`, extending it with `super`.
///      Everything else (approvals, balances, views) is final. A child's own mint and burn entry
///      points do their checks, then call `_update` (a mint with `from` zero and the new word as
///      `packed`; a burn with `to` zero and the current word), then make their calls out
///      (`ERC721Utils.checkOnERC721Received` for a safe mint). The core has no public mint or burn.
abstract contract ERC721Core is IERC721Metadata, IERC2309, IERC721Errors {
    uint256 internal constant _OWNER_MASK = (1 << 160) - 1;

    /// @custom:storage-location erc7201:chainright.storage.ERC721Core
    struct ERC721CoreStorage {
        mapping(address holder => uint256 count) balances;
        mapping(uint256 tokenId => address approved) tokenApprovals;
        mapping(address holder => mapping(address operator => bool approved)) operatorApprovals;
        string name;
        string symbol;
    }

    // keccak256(abi.encode(uint256(keccak256("chainright.storage.ERC721Core")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _CORE_SLOT = 0xcbc0d0bd9b4a9211d61e34af2165b529bc2da96def16a41b894e3ddd5b64d600;

    // ------------------------------------------------------------------ ERC-721

    /// @notice Move `tokenId` from `from` to `to`. Holder, approved or operator, and whatever the
    ///         collection adds (`_checkTransfer`).
    /// @dev Clears the token approval; emits `Transfer`. Reverts with `ERC721NonexistentToken`,
    ///      `ERC721IncorrectOwner`, `ERC721InvalidReceiver`, `ERC721InsufficientApproval`, then the
    ///      collection's own errors.
    function transferFrom(address from, address to, uint256 tokenId) public virtual {
        // Checks
        uint256 packed = _packedOf(tokenId);
        address holder = address(uint160(packed));
        if (holder != from) revert ERC721IncorrectOwner(from, tokenId, holder);
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        ERC721CoreStorage storage $ = _coreStorage();
        if (msg.sender != from && msg.sender != $.tokenApprovals[tokenId] && !$.operatorApprovals[from][msg.sender]) {
            revert ERC721InsufficientApproval(msg.sender, tokenId);
        }
        _checkTransfer(from, to, tokenId);

        // Effects
        _update(from, to, tokenId, 1, packed);
    }

    /// @notice `transferFrom`, then require a contract recipient to accept (`onERC721Received`).
    /// @dev Also reverts with `ERC721InvalidReceiver` or the receiver's own error.
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        ERC721Utils.checkOnERC721Received(msg.sender, from, to, tokenId, data);
    }

    /// @notice `safeTransferFrom` with empty data.
    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    /// @notice Approve `to` to transfer `tokenId` (zero clears). Holder or its operator.
    /// @dev Emits `Approval`. Reverts with `ERC721NonexistentToken` or `ERC721InvalidApprover`.
    function approve(address to, uint256 tokenId) external {
        address holder = ownerOf(tokenId);
        ERC721CoreStorage storage $ = _coreStorage();
        if (msg.sender != holder && !$.operatorApprovals[holder][msg.sender]) revert ERC721InvalidApprover(msg.sender);
        $.tokenApprovals[tokenId] = to;
        emit Approval(holder, to, tokenId);
    }

    /// @notice Let `operator` transfer all of the caller's tokens (or stop it).
    /// @dev Emits `ApprovalForAll`. Reverts with `ERC721InvalidOperator` for the zero address.
    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0)) revert ERC721InvalidOperator(address(0));
        _coreStorage().operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @notice Tokens held by `holder`. Reverts with `ERC721InvalidOwner` for the zero address.
    function balanceOf(address holder) external view returns (uint256) {
        if (holder == address(0)) revert ERC721InvalidOwner(address(0));
        return _coreStorage().balances[holder];
    }

    /// @notice The holder of `tokenId`. Reverts with `ERC721NonexistentToken`.
    function ownerOf(uint256 tokenId) public view returns (address) {
        return address(uint160(_packedOf(tokenId)));
    }

    /// @notice The approved address of `tokenId`. Reverts with `ERC721NonexistentToken`.
    function getApproved(uint256 tokenId) external view returns (address) {
        _packedOf(tokenId);
        return _coreStorage().tokenApprovals[tokenId];
    }

    /// @notice True when `operator` may transfer all tokens of `holder`.
    function isApprovedForAll(address holder, address operator) public view returns (bool) {
        return _coreStorage().operatorApprovals[holder][operator];
    }

    /// @notice The collection name.
    function name() external view returns (string memory) {
        return _coreStorage().name;
    }

    /// @notice The collection symbol.
    function symbol() external view returns (string memory) {
        return _coreStorage().symbol;
    }

    /// @notice ERC-165: ERC-721 and its metadata.
    function supportsInterface(bytes4 interfaceId) public view virtual returns (bool) {
        return interfaceId == type(IERC721).interfaceId || interfaceId == type(IERC721Metadata).interfaceId
            || interfaceId == type(IERC165).interfaceId;
    }

    // ------------------------------------------------------------------ for the child

    /// @dev The one path by which tokens change hands: a mint (`from` zero) of `quantity` consecutive
    ///      tokens from `tokenId`, a transfer or a burn (`to` zero) of one token. Effects only: moves
    ///      the balances, clears the approval of a token that leaves a holder, has the child store
    ///      the ownership (`_writeOwnership`), emits `Transfer`, or one ERC-2309 `ConsecutiveTransfer`
    ///      for a minted range. The caller has made every check (existence, holder, recipient,
    ///      authorization) and calls out only after it. `packed`: the new word for a mint, the
    ///      current one (as `_packedOf` returned it) for a transfer or a burn.
    function _update(address from, address to, uint256 tokenId, uint256 quantity, uint256 packed) internal {
        ERC721CoreStorage storage $ = _coreStorage();
        if (from != address(0)) {
            if ($.tokenApprovals[tokenId] != address(0)) delete $.tokenApprovals[tokenId];
            unchecked {
                $.balances[from] -= quantity;
            }
        }
        if (to != address(0)) {
            unchecked {
                $.balances[to] += quantity;
            }
        }
        _writeOwnership(from, to, tokenId, quantity, packed);
        if (quantity == 1) emit Transfer(from, to, tokenId);
        else emit ConsecutiveTransfer(tokenId, tokenId + quantity - 1, from, to);
    }

    /// @dev Set the name and symbol (a constructor, or a clone's initializer).
    function _setNameAndSymbol(string memory name_, string memory symbol_) internal {
        ERC721CoreStorage storage $ = _coreStorage();
        $.name = name_;
        $.symbol = symbol_;
    }

    /// @dev The token's ownership word; reverts `ERC721NonexistentToken` when it does not exist.
    function _packedOf(uint256 tokenId) internal view virtual returns (uint256 packed);

    /// @dev Store a move made by `_update` (see its `packed`). Storage and events only.
    function _writeOwnership(address from, address to, uint256 tokenId, uint256 quantity, uint256 packed)
        internal
        virtual;

    /// @dev The child's own conditions on a holder's transfer; reverts to refuse it. Default: none.
    function _checkTransfer(address from, address to, uint256 tokenId) internal view virtual {}

    /// @dev The approved address of `tokenId`, without the existence check (for the child's own
    ///      authorization rules, e.g. ERC-4907 `setUser`).
    function _approvedOf(uint256 tokenId) internal view returns (address) {
        return _coreStorage().tokenApprovals[tokenId];
    }

    function _coreStorage() private pure returns (ERC721CoreStorage storage $) {
        assembly {
            $.slot := _CORE_SLOT
        }
    }
}
