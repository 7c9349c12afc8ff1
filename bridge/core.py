"""The relayer's decisions, pure: no RPC, no keys, no database (table-tested without a chain).

- ``plan(events, checkpoint, delivered)``: what a validator does with the source events of one
  scanned block range (attest, reject, skip) and where its checkpoint moves.
- ``plan_deliveries(...)``: which transfers the submitter can deliver now (at least M matching
  attestations from current validators), which wait, which are done.
- ``scan_start`` / ``next_range``: the bounded re-scan after a restart and the next final range.
- ``state_unavailable(message)``: whether a node's error says "I no longer keep that block's state".
- ``judge_custody(...)``: custody from the state at the departure's block, or, when that state is
  gone (a pruned node, anvil restarted from its state file), from the chain's current state.
- ``hold_schedule(attempts, ...)``: when a departure whose custody cannot be decided yet is looked
  at again, and when it counts as stuck.
- ``transfer_step(current, outcome, policy, now)``: a transfer's next status, attempts and next
  attempt time after a delivery outcome (the retry policy; the store only writes what it says).
- The statuses as ``StrEnum``s (``TransferStatus``, ``DeliveryStatus``, ``ObservationOutcome``,
  ``WorkerState``): their values are what the tables store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import cast

from bridge.errors import BridgeMessageError
from bridge.message import BridgeMessage, recover_signer, split_transfer_id
from chain.backoff import exponential_backoff
from chain.blocks import BlockRange, plan_range


class TransferStatus(StrEnum):
    """Where a transfer stands; only ``delivered`` is final."""

    PENDING = "pending"
    """Waiting for attestations, or for its next delivery attempt."""
    FAILED = "failed"
    """``max_attempts`` deliveries would revert or reverted; still tried again, at the slowest pace."""
    DELIVERED = "delivered"
    """The destination processed it (by our delivery or another one); never changed again."""


RETRIED_STATUSES = frozenset({TransferStatus.PENDING, TransferStatus.FAILED})
"""Transfer statuses the submitter still works on."""


class DeliveryStatus(StrEnum):
    """A delivery transaction's life: signed (stored before it is sent), sent, then one outcome."""

    SIGNED = "signed"
    SENT = "sent"
    MINED = "mined"
    REVERTED = "reverted"
    DROPPED = "dropped"
    """Its nonce went to another transaction: it can never be mined."""


LIVE_DELIVERIES = frozenset({DeliveryStatus.SIGNED, DeliveryStatus.SENT})
"""Delivery operations whose outcome is not known yet."""


class ObservationOutcome(StrEnum):
    """What a validator did with a source event (``plan``'s actions, as stored)."""

    ATTESTED = "attested"
    REJECTED = "rejected"
    SKIPPED = "skipped"


class WorkerState(StrEnum):
    """A relayer process's last step: fine, or failing (with the error)."""

    OK = "ok"
    ERROR = "error"


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
    and the chain state agrees (see ``judge_custody``); None when it cannot be decided now (the
    event is held and looked at again, see ``hold_schedule``); False when custody is disproved.
    """

    key: EventKey
    block_number: int
    block_hash: str
    emitter: str
    message: BridgeMessage | None
    custody: bool | None
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


@dataclass(frozen=True)
class Hold:
    """Custody cannot be decided now: neither signed nor rejected; looked at again later."""

    event: SourceEvent
    reason: str


Action = Attest | Reject | Skip | Hold


def plan(
    events: ScanBatch, checkpoint: Checkpoint, delivered: frozenset[int], *, route: Route
) -> tuple[list[Action], Checkpoint]:
    """Decide what a validator does with one scanned range of source events.

    Each event (by chain id, tx hash, log index) is handled once: events in ``checkpoint.handled``
    and repeats within the batch produce no action. An event is attested only when it was emitted
    by the route's source endpoint, decodes to a message of this route whose transfer id encodes
    that source, and the edge verified custody; a transfer already delivered is skipped. An event
    whose custody cannot be decided now is held (``Hold``): it is not counted as handled, so it is
    decided when it is looked at again. The checkpoint never moves backwards.
    """
    actions: list[Action] = []
    handled = set(checkpoint.handled)
    for event in sorted(events.events, key=lambda e: (e.block_number, e.key.log_index, e.key)):
        if event.key in handled:
            continue
        action = _decide(event, delivered, route)
        actions.append(action)
        if not isinstance(action, Hold):
            handled.add(event.key)
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
    if event.custody is None:
        if m.transfer_id in delivered:
            return Skip(event, "already delivered")
        return Hold(event, event.custody_note or "custody cannot be decided now")
    if not event.custody:
        return Reject(event, "custody not verified: " + (event.custody_note or "no token moved"))
    if m.transfer_id in delivered:
        return Skip(event, "already delivered")
    return Attest(event, m)


# ---------------------------------------------------------------------------------- custody


STATE_UNAVAILABLE_MARKERS = (
    # anvil restarted from --state: "BlockOutOfRangeError: block height is 96 but requested was 31"
    "blockoutofrange",
    "block height is",
    "missing trie node",  # geth, nethermind, bor: pruned trie
    "header not found",  # geth: block not known to this (snap-synced / pruned) node
    # geth: "historical state <root> is not available", "required historical state unavailable"
    "historical state",
    "state not available",
    "state is not available",
    "state unavailable",  # besu: "World state unavailable for block"
    "no state available",  # nethermind
    "pruned",  # erigon / reth: "state at block #N is pruned"
    "prune",
    "distance to target block exceeds",  # erigon without archive
    "not an archive node",
    "archive",
)
"""Lower-case fragments of node errors meaning "this node does not keep that block's state".

Taking another error for one of these is safe: custody then falls back to the chain's current
state (``judge_custody``), which proves no less; only connection failures are retried as such."""


def state_unavailable(message: str) -> bool:
    """True when a node's error ``message`` says the state of the requested block is not kept."""
    text = message.lower()
    return any(marker in text for marker in STATE_UNAVAILABLE_MARKERS)


@dataclass(frozen=True)
class Unknown:
    """A state read the node could not answer (pruned history, or another error); ``why`` says so."""

    why: str


Owner = str | None | Unknown
"""``ownerOf`` as read: an address, None (the token does not exist), or Unknown."""


def judge_custody(
    *,
    lock: bool,
    holder: str,
    block: int,
    owner_at_block: Owner,
    owner_now: Owner,
    moved_since: int | Unknown | None,
) -> tuple[bool | None, str]:
    """Whether the token of a departure (whose successful receipt, at a final block, already shows
    it entering the lockbox or being burned) is in custody: (True / False / None = undecided, note).

    With the state at the departure's ``block`` the answer is that state's: a lock needs the lockbox
    (``holder``) to own the token, a burn needs the wrapped token gone. Without it (a pruned node, or
    anvil restarted from its state file, which keeps blocks and receipts but no historical state),
    the current state must show the same and the token must not have moved since the departure
    (``moved_since``: the first later block with a ``Transfer`` of the token, None when there is
    none); then custody at the departure follows (the token cannot return to the lockbox / be
    re-minted without a later Transfer). Anything else cannot be decided from this node: held.
    """
    what = "the lockbox owns the token" if lock else "the wrapped token no longer exists"
    if not isinstance(owner_at_block, Unknown):
        if lock and owner_at_block != holder:
            return False, f"at block {block} the token is owned by {owner_at_block}, not the lockbox"
        if not lock and owner_at_block is not None:
            return False, f"at block {block} the wrapped token still exists (owner {owner_at_block})"
        return True, ""
    gone = f"the state at block {block} is not available on this node ({owner_at_block.why})"
    if isinstance(owner_now, Unknown) or isinstance(moved_since, Unknown):
        why = owner_now.why if isinstance(owner_now, Unknown) else cast(Unknown, moved_since).why
        return None, f"{gone}, and the current state cannot be read either ({why})"
    if moved_since is not None:
        return None, (f"{gone}, and the token moved again in block {moved_since}, so its current "
                      f"state says nothing about block {block}")
    if lock and owner_now != holder:
        return None, f"{gone}, and the lockbox no longer holds the token (owner now {owner_now})"
    if not lock and owner_now is not None:
        return None, f"{gone}, and the wrapped token exists again (owner {owner_now})"
    return True, f"{gone}; custody from the receipt and the current state ({what}, not moved since)"


def hold_schedule(attempts: int, *, base_s: float, max_wait_s: float, stuck_after: int) -> tuple[float, bool]:
    """After ``attempts`` looks at a held departure that stayed undecided: (seconds until the next
    look, stuck?). The wait doubles from ``base_s`` up to ``max_wait_s``; from ``stuck_after``
    looks on the departure is reported as stuck (still looked at, at the slowest pace)."""
    attempts = max(1, attempts)
    return exponential_backoff(attempts, base_s=base_s, max_s=max_wait_s), attempts >= stuck_after


# ------------------------------------------------------------------------------------ retrying


class TransferOutcome(StrEnum):
    """What one delivery attempt of a transfer came to."""

    DELIVERED = "delivered"
    """Mined, or the destination had processed the transfer already."""
    REFUSED = "refused"
    """It would revert or reverted (or its departure left the canonical chain): counts as an attempt."""
    DEFERRED = "deferred"
    """Refused for now (the bridge paused, the rate limit reached): retried, no attempt counted."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often a transfer is tried again: ``retry_after_s`` doubled per counted attempt, at most
    ``max_wait_s``; ``failed`` from ``max_attempts`` counted attempts on."""

    retry_after_s: float
    max_attempts: int
    max_wait_s: float = 3600.0


@dataclass(frozen=True)
class TransferState:
    """A transfer's stored status, counted attempts and next attempt time (epoch seconds; None: now)."""

    status: TransferStatus
    attempts: int = 0
    retry_at: float | None = None


def transfer_step(current: TransferState, outcome: TransferOutcome, policy: RetryPolicy,
                  now: float) -> TransferState | None:
    """The transfer's state after ``outcome`` at time ``now``, or None when nothing changes.

    A delivered transfer never changes again. Delivered: ``delivered``, no next attempt. Refused: one
    more counted attempt, the next one after ``retry_after_s * 2**attempts`` (at most ``max_wait_s``),
    and ``failed`` once ``max_attempts`` are counted: a failed transfer is still tried at that pace
    (a paused collection or an unverified recipient can recover), so nothing is ever given up.
    Deferred: the same attempts, the next one after ``retry_after_s``. The status follows the
    counted attempts (``failed`` from ``max_attempts`` on, else ``pending``).
    """
    if current.status is TransferStatus.DELIVERED:
        return None
    if outcome is TransferOutcome.DELIVERED:
        return TransferState(TransferStatus.DELIVERED, current.attempts, None)
    if outcome is TransferOutcome.DEFERRED:
        attempts, wait = current.attempts, policy.retry_after_s
    else:
        attempts = current.attempts + 1
        wait = min(policy.max_wait_s, policy.retry_after_s * 2 ** min(attempts, 20))
    status = TransferStatus.FAILED if attempts >= policy.max_attempts else TransferStatus.PENDING
    return TransferState(status, attempts, now + wait)


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
