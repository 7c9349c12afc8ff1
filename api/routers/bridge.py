"""Bridge: move a token between the chains through the API, and follow the transfer.

``POST /bridge/send-tx`` returns the unsigned transactions for the holder's wallet: on home the
lockbox's ``lock`` (the approval of the lockbox first when it is missing: send it, then ask again,
so that the lock itself is simulated before it is returned); on remote the bridge's ``burnToHome``.
``GET /bridge/transfers/{id}`` says where a transfer is, from the relayer's store (the API only
reads it) and the chains: pending, attested, delivered, failed or stuck, with the reason.
``transfer_status`` is the pure decision; the route gathers what it needs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator
from web3 import Web3

from api.deps import CurrentUser, DatabaseDep, GatewayDep
from api.errors import ForbiddenError, NotFoundError, ServiceUnavailableError, UnprocessableError
from api.gateway import ChainGateway
from api.models import Asset
from api.pausing import refuse_when_paused
from api.schemas import UnsignedTx
from api.simulate import estimate_gas
from api.types import MAX_CHAIN_ID, Address, checksum_address

router = APIRouter(prefix="/bridge", tags=["bridge"])
STUCK_AFTER_S = 600.0
"""A transfer neither delivered nor failed this long after it left is reported as stuck."""
Status = Literal["pending", "attested", "delivered", "failed", "stuck"]


# -- the pure decision ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What is known about one transfer, from the relayer's store and the chains."""

    stored_status: str | None = None
    """The relayer's row: pending, failed or delivered (None: no validator signed it yet)."""
    stored_reason: str | None = None
    attestations: int = 0
    threshold: int | None = None
    held_reason: str | None = None
    """A validator holds the departure (cannot decide it yet)."""
    held_stuck: bool = False
    rejected_reason: str | None = None
    """A validator rejected the departure (it will never be delivered)."""
    departed: bool = False
    """The departure event is on the source chain."""
    delivered_on_chain: bool = False
    age_s: float | None = None


def transfer_status(e: Evidence, stuck_after_s: float = STUCK_AFTER_S) -> tuple[Status, str] | None:
    """(status, reason in words) of a transfer; None when nothing at all is known of it."""
    if e.delivered_on_chain or e.stored_status == "delivered":
        return "delivered", "the token arrived on the destination chain"
    if e.rejected_reason:
        return "failed", f"the validators rejected it: {e.rejected_reason}"
    if e.stored_status == "failed":
        return "failed", e.stored_reason or "delivery failed after the relayer's last attempt"
    if e.held_stuck:
        return "stuck", f"the validators cannot decide it: {e.held_reason}"
    old = e.age_s is not None and e.age_s > stuck_after_s
    if e.stored_status == "pending":
        enough = e.attestations >= (e.threshold or 1)
        if old:
            return "stuck", (e.stored_reason or f"not delivered after {e.age_s:.0f}s "
                             f"({e.attestations} of {e.threshold or '?'} signatures)")
        if enough:
            return "attested", e.stored_reason or (f"signed by {e.attestations} validators; waiting for "
                                                   "the submitter to deliver it")
        return "pending", e.stored_reason or f"{e.attestations} of {e.threshold or '?'} validator signatures"
    if e.held_reason:
        return "pending", f"the validators look at it again later: {e.held_reason}"
    if e.departed:
        if old:
            return "stuck", f"no validator has signed it after {e.age_s:.0f}s: is the relayer running?"
        return "pending", "left the source chain; waiting for the validators (confirmations)"
    return None


# -- wire models -----------------------------------------------------------------------------


class SendIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID, description="The chain the token is on now (its source).")
    collection: str = Field(description="The home collection (on remote too: the wrapped token's origin).")
    token_id: int = Field(ge=0, lt=2**96, description="The token id in its home collection.")
    recipient: str | None = Field(default=None, description="Who receives it there; default: you.")
    content_hash: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$",
                                     description="The work's content hash (home only; default: looked up).")

    @field_validator("collection", "recipient")
    @classmethod
    def _addresses(cls, value: str | None) -> str | None:
        return checksum_address(value) if value is not None else None


class SendOut(BaseModel):
    direction: Literal["lock", "burn"]
    source_chain_id: int
    dest_chain_id: int
    bridge: str
    """The source chain's bridge contract: its departure event carries the transfer id."""
    approval_needed: bool
    """True: ``transactions`` holds only the approval; send it, then ask again for the lock."""
    transactions: list[UnsignedTx]


class TransferOut(BaseModel):
    transfer_id: str
    """Decimal (the id is 256 bits; hex in ``transfer_id_hex``)."""
    transfer_id_hex: str
    source_chain_id: int
    dest_chain_id: int | None = None
    status: Status
    reason: str
    collection: str | None = None
    token_id: str | None = None
    sender: str | None = None
    recipient: str | None = None
    tx_hash: str | None = None
    attestations: int = 0
    threshold: int | None = None
    attempts: int = 0
    observed_at: str | None = None
    """ISO 8601 UTC: when the relayer first saw it."""
    delivered_at: str | None = None
    delivery_tx: str | None = None


# -- helpers -----------------------------------------------------------------------------------


def _iso(seconds: float | None) -> str | None:
    from chain.formatting import format_time

    return None if seconds is None else format_time(seconds)


def bridge_status_store(request: Request, gateway: GatewayDep) -> Any:
    """The relayer's store, read only (a dependency provider; cached on the app), or None when no
    relayer has created it yet."""
    from bridge.settings import BridgeSettings
    from bridge.store import BridgeStore, make_engine

    try:
        url = BridgeSettings().effective_database_url(gateway.settings)
    except Exception:
        return None
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    cached = getattr(request.app.state, "bridge_status_store", None)
    if cached is None or cached[0] != url:
        cached = (url, BridgeStore(make_engine(url)))
        request.app.state.bridge_status_store = cached
    return cached[1]


StatusStore = Annotated[Any, Depends(bridge_status_store)]
"""The relayer's store (``bridge.store.BridgeStore``) or None."""


def _endpoint(gateway: ChainGateway, chain_id: int) -> tuple[str, str]:
    """(contract name, address) of the bridge on ``chain_id``."""
    for name in ("HomeLockbox", "RemoteBridge"):
        try:
            return name, gateway.address(chain_id, name)
        except ServiceUnavailableError:
            continue
    raise NotFoundError(f"no bridge is deployed on chain {chain_id}")


def _content_hash(gateway: ChainGateway, db: Any, chain_id: int, collection: str, token_id: int) -> bytes:
    from chain.cid import cid_from_bytes

    try:
        work_id, cid = gateway.view(chain_id, collection, "CreatorCollection", "workOf", [token_id])
    except Exception:
        raise NotFoundError(f"token {token_id} does not exist in {collection} on chain {chain_id}") from None
    row = db.get(Asset, cid_from_bytes(bytes(cid))) if cid else None
    if row is not None:
        return bytes.fromhex(row.content_hash[2:])
    nft = gateway.contract(chain_id, "CreatorCollection", collection)
    logs = nft.events.WorkMinted().get_logs(from_block=0, argument_filters={"workId": int(work_id)})
    if not logs:
        raise UnprocessableError(f"the content hash of token {token_id} is not known here: pass content_hash")
    return bytes(logs[0]["args"]["contentHash"])


# -- routes ------------------------------------------------------------------------------------


@router.post("/send-tx", response_model=SendOut,
             summary="The transactions that send a token to the other chain: lock on home (with the "
                     "lockbox's approval first), burn on remote; simulated first")
def send_tx(body: SendIn, caller: CurrentUser, gateway: GatewayDep, database: DatabaseDep) -> SendOut:
    from bridge.message import wrapped_id

    if caller.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    sender = caller.address
    name, bridge = _endpoint(gateway, body.chain_id)
    gateway.require_progress(body.chain_id)
    refuse_when_paused(gateway, body.chain_id, "bridge", "new bridge transfers")
    peer_chain, _ = gateway.view(body.chain_id, bridge, name, "peer", [])
    recipient = body.recipient or sender
    if name == "HomeLockbox":
        owner = gateway.view(body.chain_id, body.collection, "CreatorCollection", "ownerOf", [body.token_id])
        if Web3.to_checksum_address(owner) != sender:
            raise ForbiddenError(f"token {body.token_id} of {body.collection} is held by {owner}, not by you")
        approved = Web3.to_checksum_address(
            gateway.view(body.chain_id, body.collection, "CreatorCollection", "getApproved", [body.token_id]))
        if approved != bridge and not gateway.view(body.chain_id, body.collection, "CreatorCollection",
                                                   "isApprovedForAll", [sender, bridge]):
            data = gateway.calldata("CreatorCollection", "approve", [bridge, body.token_id])
            gas = estimate_gas(gateway, body.chain_id, sender, body.collection, data, what="the approval")
            return SendOut(direction="lock", source_chain_id=body.chain_id, dest_chain_id=int(peer_chain),
                           bridge=bridge, approval_needed=True, transactions=[UnsignedTx(
                               chain_id=body.chain_id, **{"from": sender}, to=body.collection, data=data,
                               gas=gas)])
        with database.session() as db:
            content = (bytes.fromhex(body.content_hash[2:]) if body.content_hash
                       else _content_hash(gateway, db, body.chain_id, body.collection, body.token_id))
        data = gateway.calldata("HomeLockbox", "lock", [body.collection, body.token_id, recipient,
                                                        int(peer_chain), content])
        direction: Literal["lock", "burn"] = "lock"
    else:
        token = wrapped_id(body.collection, body.token_id)
        wrapped = gateway.view(body.chain_id, bridge, "RemoteBridge", "wrapped", [])
        try:
            owner = gateway.view(body.chain_id, wrapped, "WrappedCollection", "ownerOf", [token])
        except Exception:
            raise NotFoundError(
                f"token {body.token_id} of {body.collection} is not on chain {body.chain_id}") from None
        if Web3.to_checksum_address(owner) != sender:
            raise ForbiddenError(f"the wrapped token {token} is held by {owner}, not by you")
        data = gateway.calldata("RemoteBridge", "burnToHome", [token, recipient])
        direction = "burn"
    gas = estimate_gas(gateway, body.chain_id, sender, bridge, data, what=f"the {direction}")
    return SendOut(direction=direction, source_chain_id=body.chain_id, dest_chain_id=int(peer_chain),
                   bridge=bridge, approval_needed=False, transactions=[UnsignedTx(
                       chain_id=body.chain_id, **{"from": sender}, to=bridge, data=data, gas=gas)])


def _parse_id(text: str) -> int:
    try:
        value = int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        raise UnprocessableError(f"{text!r} is not a transfer id (decimal or 0x hex)") from None
    if not 0 < value < 2**256:
        raise UnprocessableError(f"{text!r} is not a transfer id")
    return value


def _on_chain(gateway: ChainGateway, transfer_id: int) -> tuple[int, dict[str, Any] | None, float | None]:
    """(source chain, departure event args or None, its block time) read from the source chain."""
    source = transfer_id >> 192
    address = Web3.to_checksum_address(f"0x{(transfer_id >> 32) & (2**160 - 1):040x}")
    try:
        name, bridge = _endpoint(gateway, source)
    except NotFoundError:
        return source, None, None
    if bridge != address:
        return source, None, None
    contract = gateway.contract(source, name)
    event = contract.events.TokenLocked() if name == "HomeLockbox" else contract.events.TokenBurned()
    logs = event.get_logs(from_block=0, argument_filters={"transferId": transfer_id})
    if not logs:
        return source, None, None
    args = dict(logs[0]["args"])
    args["transactionHash"] = "0x" + bytes(logs[0]["transactionHash"]).hex()
    stamp = gateway.web3(source).eth.get_block(logs[0]["blockNumber"])["timestamp"]
    return source, args, float(stamp)


@router.get("/transfers/{transfer_id}", response_model=TransferOut,
            summary="Where a bridge transfer is: pending, attested, delivered, failed or stuck, "
                    "with the reason")
def get_transfer(transfer_id: str, gateway: GatewayDep, store: StatusStore) -> TransferOut:
    tid = _parse_id(transfer_id)
    row = held = rejected = None
    attestations = 0
    if store is not None:
        try:
            row = store.transfer(tid)
            held = next((h for h in store.held(limit=1000) if h.transfer_id == tid), None)
            rejected = next((r for r in store.rejections(limit=500)
                             if r.get("transfer_id") and int(r["transfer_id"], 16) == tid), None)
            if row is not None:
                attestations = len(store.attestations(row.source_chain_id, [tid]).get(tid, []))
        except Exception:  # the relayer has not created its tables yet
            row = held = rejected = None
    source, departure, departed_at = _on_chain(gateway, tid)
    dest = row.dest_chain_id if row is not None else (int(departure["destChainId"]) if departure else None)
    threshold = delivered = None
    try:
        name, bridge = _endpoint(gateway, source)
        threshold = int(gateway.view(source, bridge, name, "validatorSet", [])[1])
        if dest is not None:
            dest_name, dest_bridge = _endpoint(gateway, dest)
            delivered = bool(gateway.view(dest, dest_bridge, dest_name, "processed", [tid]))
    except (NotFoundError, ServiceUnavailableError):
        pass
    observed = row.observed_at if row is not None else departed_at
    evidence = Evidence(
        stored_status=row.status if row else None, stored_reason=row.reason if row else None,
        attestations=attestations, threshold=threshold, held_reason=held.reason if held else None,
        held_stuck=bool(held and held.stuck), rejected_reason=rejected.get("reason") if rejected else None,
        departed=departure is not None, delivered_on_chain=bool(delivered),
        age_s=None if observed is None else max(0.0, time.time() - observed))
    decided = transfer_status(evidence)
    if decided is None:
        raise NotFoundError(f"no bridge transfer {transfer_id} is known (not on chain {source}, not in the "
                            "relayer's store)")
    status, reason = decided
    out = TransferOut(transfer_id=str(tid), transfer_id_hex=f"0x{tid:064x}", source_chain_id=source,
                      dest_chain_id=dest, status=status, reason=reason, attestations=attestations,
                      threshold=threshold, observed_at=_iso(observed))
    if row is not None:
        out = out.model_copy(update={
            "collection": row.collection, "token_id": str(row.token_id), "sender": row.sender,
            "recipient": row.recipient, "tx_hash": row.tx_hash, "attempts": row.attempts,
            "delivered_at": _iso(row.delivered_at), "delivery_tx": row.delivery_tx})
    elif departure is not None:
        out = out.model_copy(update={
            "collection": Web3.to_checksum_address(departure["collection"]),
            "token_id": str(departure["tokenId"]), "sender": departure.get("sender"),
            "recipient": departure.get("recipient"), "tx_hash": departure["transactionHash"]})
    return out


@router.get("/transfers", response_model=list[TransferOut],
            summary="A wallet's bridge transfers (sent or received), newest first, from the relayer's store")
def list_transfers(store: StatusStore, wallet: Annotated[Address, Query(description="The wallet.")],
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[TransferOut]:
    if store is None:
        return []
    try:
        rows = store.transfers_of(wallet, limit)
    except Exception:  # no relayer tables yet
        return []
    now = time.time()
    out = []
    for row in rows:
        signed = store.attestations(row.source_chain_id, [row.transfer_id])
        attestations = len(signed.get(row.transfer_id, []))
        decided = transfer_status(Evidence(stored_status=row.status, stored_reason=row.reason,
                                           attestations=attestations, departed=True,
                                           age_s=now - row.observed_at))
        assert decided is not None
        out.append(TransferOut(
            transfer_id=str(row.transfer_id), transfer_id_hex=f"0x{row.transfer_id:064x}",
            source_chain_id=row.source_chain_id, dest_chain_id=row.dest_chain_id, status=decided[0],
            reason=decided[1], collection=row.collection, token_id=str(row.token_id), sender=row.sender,
            recipient=row.recipient, tx_hash=row.tx_hash, attestations=attestations, attempts=row.attempts,
            observed_at=_iso(row.observed_at), delivered_at=_iso(row.delivered_at),
            delivery_tx=row.delivery_tx))
    return out
