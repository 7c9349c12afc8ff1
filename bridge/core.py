"""The relayer's decisions, pure: no RPC, no keys, no database (table-tested without a chain).

- ``plan(events, checkpoint, delivered)``: what a validator does with the source events of one
  scanned block range (attest, reject, skip) and where its checkpoint moves.
- ``plan_deliveries(...)``: which transfers the submitter can deliver now (at least M matching
  attestations from current validators), which wait, which are done.
- ``scan_start`` / ``next_range``: the bounded re-scan after a restart and the next final range.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bridge.errors import BridgeMessageError
from bridge.message import BridgeMessage, recover_signer, split_transfer_id
from chain.index.core import BlockRange, plan_range


@dataclass(frozen=True, order=True)
class EventKey:
    """A log's identity: (chain id, tx hash, log index); the de-duplication key."""

    chain_id: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class Route:
    """One direction: the endpoint events come from and the one messages go to."""

    source_chain_id: int
    source_bridge: str
    dest_chain_id: int
    dest_bridge: str

    @property
    def name(self) -> str:
        return f"{self.source_chain_id}->{self.dest_chain_id}"


@dataclass(frozen=True)
class SourceEvent:
    """A departure event as read from the source chain, with what the edge verified about it.

    ``message`` is None when the log could not be decoded. ``custody`` is True when the edge saw,
    in the same successful transaction, the token move into the lockbox (lock) or be burned (burn),
    and the chain state at that block agrees.
    """

    key: EventKey
    block_number: int
    block_hash: str
    emitter: str
    message: BridgeMessage | None
    custody: bool
    custody_note: str = ""


@dataclass(frozen=True)
class ScanBatch:
    """The events of the inclusive block range ``start``..``end`` (the ``events`` of ``plan``)."""

    start: int
    end: int
    events: tuple[SourceEvent, ...] = ()


@dataclass(frozen=True)
class Checkpoint:
    """The next block to scan, and the events already handled in the re-scan window."""

    next_block: int
    handled: frozenset[EventKey] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Attest:
    event: SourceEvent
    message: BridgeMessage


@dataclass(frozen=True)
class Reject:
    event: SourceEvent
    reason: str


@dataclass(frozen=True)
class Skip:
    event: SourceEvent
    reason: str


Action = Attest | Reject | Skip


def plan(
    events: ScanBatch, checkpoint: Checkpoint, delivered: frozenset[int], *, route: Route
) -> tuple[list[Action], Checkpoint]:
    """Decide what a validator does with one scanned range of source events.

    Each event (by chain id, tx hash, log index) is handled once: events in ``checkpoint.handled``
    and repeats within the batch produce no action. An event is attested only when it was emitted
    by the route's source endpoint, decodes to a message of this route whose transfer id encodes
    that source, and the edge verified custody; a transfer already delivered is skipped. The
    checkpoint never moves backwards.
    """
    actions: list[Action] = []
    handled = set(checkpoint.handled)
    for event in sorted(events.events, key=lambda e: (e.block_number, e.key.log_index, e.key)):
        if event.key in handled:
            continue
        handled.add(event.key)
        actions.append(_decide(event, delivered, route))
    next_block = max(checkpoint.next_block, events.end + 1)
    return actions, Checkpoint(next_block, frozenset(handled))


def _decide(event: SourceEvent, delivered: frozenset[int], route: Route) -> Action:
    if event.emitter.lower() != route.source_bridge.lower():
        return Reject(event, f"emitted by {event.emitter}, not the source endpoint {route.source_bridge}")
    if event.key.chain_id != route.source_chain_id:
        return Reject(event, f"seen on chain {event.key.chain_id}, not {route.source_chain_id}")
    m = event.message
    if m is None:
        return Reject(event, "the log does not decode as a departure event")
    if (m.source_chain_id, m.source_bridge.lower(), m.dest_chain_id, m.dest_bridge.lower()) != (
        route.source_chain_id,
        route.source_bridge.lower(),
        route.dest_chain_id,
        route.dest_bridge.lower(),
    ):
        return Reject(
            event,
            f"message for route {m.source_chain_id}->{m.dest_chain_id} "
            f"({m.source_bridge} -> {m.dest_bridge}), not {route.name}",
        )
    chain_id, bridge, nonce = split_transfer_id(m.transfer_id)
    if chain_id != route.source_chain_id or bridge.lower() != route.source_bridge.lower() or nonce == 0:
        return Reject(event, f"transfer id {m.transfer_id:#x} does not encode the source endpoint")
    if not event.custody:
        return Reject(event, "custody not verified: " + (event.custody_note or "no token moved"))
    if m.transfer_id in delivered:
        return Skip(event, "already delivered")
    return Attest(event, m)


# -------------------------------------------------------------------------------------- scanning


def scan_start(checkpoint: int | None, deploy_block: int, rescan: int) -> int:
    """Where a (re)started validator begins: ``rescan`` blocks before its checkpoint (never before
    the endpoint's deployment block); the deployment block when it has no checkpoint."""
    if checkpoint is None:
        return deploy_block
    return max(deploy_block, checkpoint - rescan)


def next_range(cursor: int, head: int, confirmations: int, batch: int) -> BlockRange | None:
    """The next final range from ``cursor`` (blocks at least ``confirmations`` deep), or None."""
    return plan_range(head, confirmations, cursor, batch)


# ------------------------------------------------------------------------------------ submitting


@dataclass(frozen=True)
class Attestation:
    """One validator's signature over the digest of the message it observed."""

    validator: str
    message: BridgeMessage
    signature: bytes


@dataclass(frozen=True)
class Deliver:
    transfer_id: int
    message: BridgeMessage
    signatures: tuple[bytes, ...]
    """Exactly ``threshold`` signatures, ordered by signer address ascending."""


@dataclass(frozen=True)
class Wait:
    transfer_id: int
    reason: str


@dataclass(frozen=True)
class Done:
    transfer_id: int
    reason: str


Delivery = Deliver | Wait | Done


def plan_deliveries(
    pending: Iterable[int],
    attestations: Mapping[int, Sequence[Attestation]],
    validators: Iterable[str],
    threshold: int,
    processed: frozenset[int],
    in_flight: frozenset[int] = frozenset(),
) -> list[Delivery]:
    """For each pending transfer: done when the destination processed it, wait while a delivery is
    in flight or fewer than ``threshold`` current validators signed the same digest, else deliver
    with ``threshold`` signatures ordered by signer (ascending).

    A signature counts only when it recovers to the validator that claims it and that validator is
    in ``validators`` (the destination's current set); attestations over different digests for one
    transfer are counted apart, so a validator with another view of the event cannot be outvoted
    into a message it did not sign.
    """
    current = {v.lower() for v in validators}
    out: list[Delivery] = []
    for transfer_id in sorted(set(pending)):
        if transfer_id in processed:
            out.append(Done(transfer_id, "processed at the destination"))
            continue
        if transfer_id in in_flight:
            out.append(Wait(transfer_id, "a delivery is in flight"))
            continue
        by_digest: dict[bytes, tuple[BridgeMessage, dict[int, bytes]]] = {}
        for att in attestations.get(transfer_id, ()):
            if att.validator.lower() not in current or att.message.transfer_id != transfer_id:
                continue
            digest = att.message.digest()
            try:
                signer = recover_signer(digest, att.signature)
            except BridgeMessageError:
                continue
            if signer.lower() != att.validator.lower():
                continue
            by_digest.setdefault(digest, (att.message, {}))[1][int(signer, 16)] = att.signature
        best = max(by_digest.values(), key=lambda entry: len(entry[1]), default=None)
        have = len(best[1]) if best is not None else 0
        if best is None or have < threshold:
            out.append(Wait(transfer_id, f"{have} of {threshold} attestations"))
            continue
        message, sigs = best
        chosen = tuple(sigs[k] for k in sorted(sigs)[:threshold])
        out.append(Deliver(transfer_id, message, chosen))
    return out
