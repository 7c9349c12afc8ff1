"""The relayer's two roles as step functions (effects around the pure core).

Validator: per direction, read the next final block range of the source endpoint (``head -
confirmations``), verify each departure, let ``core.plan`` decide, sign the EIP-712 digest of what it
attests with its own key, and store observations, transfers, attestations and the checkpoint in one
database transaction. After a restart it re-scans ``rescan_blocks`` before its checkpoint;
observations are unique per (validator, chain id, tx hash, log index), so nothing is signed twice and
nothing between checkpoint and crash is lost.

Submitter: settle the delivery operations it left open (re-send the very same signed bytes, read the
receipt), then for each pending transfer with at least M matching attestations from the destination's
current validators: ask the destination whether it is processed, check the departure is still on
the canonical chain, sign the delivery once, persist the signed bytes, send them, and record the
outcome. A reverted delivery is retried later (pause and rate limit without counting an attempt).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes
from pydantic import SecretStr
from web3.exceptions import TransactionNotFound

from bridge.chainio import Link
from bridge.core import (
    Action,
    Attest,
    Checkpoint,
    Deliver,
    DeliveryStatus,
    Done,
    EventKey,
    Hold,
    Reject,
    ScanBatch,
    Skip,
    TransferOutcome,
    TransferStatus,
    Wait,
    next_range,
    plan,
    plan_deliveries,
    scan_start,
)
from bridge.message import sign_digest
from bridge.settings import BridgeSettings
from bridge.store import BridgeStore, DeliveryRow
from chain.errors import (
    ChainUnavailableError,
    TransactionError,
    TransactionRevertedError,
    TransactionTimeoutError,
)
from chain.reverts import ErrorDecoder
from chain.tx import TxSender, retry_read

log = logging.getLogger("bridge.relayer")

HELD_POLL_S = 1.0
"""How often a validator asks the database which held departures are due."""

TRANSIENT_REVERTS = frozenset({"BridgePaused", "BridgeRateLimitExceeded"})
"""Reverts that say "later", not "never": retried without counting an attempt."""


def tag(role: str, link: Link) -> str:
    return f"relayer[{role} {link.route.name}]"


@dataclass
class ValidatorWorker:
    """Validator ``index``: watches both directions and signs what really departed."""

    index: int
    key: SecretStr
    links: list[Link]
    store: BridgeStore
    settings: BridgeSettings
    cursors: dict[str, int] = field(default_factory=dict)
    held_checked: dict[str, float] = field(default_factory=dict)
    """When each direction's held departures were last asked for (monotonic seconds)."""

    def __post_init__(self) -> None:
        self.account: LocalAccount = Account.from_key(self.key.get_secret_value())
        self.name = f"validator-{self.index}"

    @property
    def address(self) -> str:
        return str(self.account.address)

    def step(self) -> int:
        """Handle the next final range of each direction; returns how many events were handled."""
        return sum(self._step(link) for link in self.links)

    def _step(self, link: Link) -> int:
        src, t = link.source, tag(self.name, link)
        if link.route.name not in self.cursors:
            saved = self.store.checkpoint(self.name, src.chain_id)
            self.cursors[link.route.name] = scan_start(saved, src.deploy_block, self.settings.rescan_blocks)
            log.info(
                "%s scanning from block %d (checkpoint %s, confirmations %d)",
                t,
                self.cursors[link.route.name],
                saved,
                src.confirmations,
            )
        cursor = self.cursors[link.route.name]
        span = next_range(cursor, src.head(), src.confirmations, self.settings.batch_blocks)
        if span is None:
            return self._recheck_held(link)
        saved = self.store.checkpoint(self.name, src.chain_id)
        handled = self.store.handled_keys(self.name, src.chain_id, span.start)
        events = link.fetch(span.start, span.end, skip=handled)  # custody is read only for new events
        delivered = self.store.delivered_ids(
            src.chain_id, [e.message.transfer_id for e in events if e.message]
        )
        actions, nxt = plan(
            ScanBatch(span.start, span.end, tuple(events)),
            Checkpoint(saved if saved is not None else span.start, handled),
            delivered,
            route=link.route,
        )
        self._record(link, actions, nxt.next_block)
        self.cursors[link.route.name] = span.end + 1
        return len(actions) + self._recheck_held(link)

    def _record(self, link: Link, actions: list[Action], next_block: int) -> None:
        src, t = link.source, tag(self.name, link)
        signatures: dict[EventKey, tuple[str, bytes]] = {}
        for action in actions:
            if isinstance(action, Attest):
                digest = action.message.digest()
                signatures[action.event.key] = (
                    self.address,
                    sign_digest(digest, self.key.get_secret_value()),
                )
        self.store.record_scan(self.name, src.chain_id, actions, signatures, next_block,
                               hold_schedule=self.settings.hold_schedule)
        for action in actions:
            ev = action.event
            where = f"tx {ev.key.tx_hash} log {ev.key.log_index} block {ev.block_number}"
            if isinstance(action, Attest):
                m = action.message
                log.info(
                    "%s attested transfer %d (%s token %d -> %s) from %s",
                    t,
                    m.nonce,
                    m.collection,
                    m.token_id,
                    m.recipient,
                    where,
                )
            elif isinstance(action, Reject):
                log.warning("%s rejected %s: %s", t, where, action.reason)
            elif isinstance(action, Skip):
                log.info("%s skipped %s: %s", t, where, action.reason)
            elif isinstance(action, Hold):
                log.warning("%s holding %s (neither signed nor rejected; looked at again later): %s",
                            t, where, action.reason)

    def _recheck_held(self, link: Link) -> int:
        """Look again at this validator's held departures that are due: decided ones are attested or
        rejected as in a scan; undecided ones wait longer (``hold_schedule``) and turn stuck. The
        database is asked at most once per second per direction (an idle validator polls often)."""
        src = link.source
        now = time.monotonic()
        if now < self.held_checked.get(link.route.name, 0.0) + HELD_POLL_S:
            return 0
        self.held_checked[link.route.name] = now
        due = self.store.due_held(self.name, src.chain_id)
        if not due:
            return 0
        saved = self.store.checkpoint(self.name, src.chain_id)
        count = 0
        for row in due:
            found = [e for e in link.fetch(row.block_number, row.block_number) if e.key == row.key]
            if not found:
                self.store.drop_held(self.name, src.chain_id, row.key)
                log.warning("%s held tx %s log %d is no longer in block %d; dropped", tag(self.name, link),
                            row.key.tx_hash, row.key.log_index, row.block_number)
                continue
            ev = found[0]
            delivered = self.store.delivered_ids(src.chain_id, [ev.message.transfer_id] if ev.message else [])
            start = saved if saved is not None else row.block_number + 1
            actions, nxt = plan(ScanBatch(row.block_number, row.block_number, (ev,)), Checkpoint(start),
                                delivered, route=link.route)
            self._record(link, actions, nxt.next_block)
            count += 1
        return count


@dataclass
class SubmitterWorker:
    """Delivers transfers that have enough attestations, paying gas with its own key."""

    key: SecretStr
    links: list[Link]
    store: BridgeStore
    settings: BridgeSettings
    decoder: ErrorDecoder
    recovered: bool = False
    stalled_chains: frozenset[int] = frozenset()
    """Chains that make no blocks now: nothing is delivered to them and their open deliveries are
    not waited on (they stay recorded and are settled once the chain resumes)."""

    def __post_init__(self) -> None:
        self.account: LocalAccount = Account.from_key(self.key.get_secret_value())
        self.senders: dict[int, TxSender] = {}
        for link in self.links:
            dest = link.dest
            if dest.chain_id not in self.senders:
                self.senders[dest.chain_id] = TxSender(
                    dest.web3, self.account, decoder=self.decoder, timeout_s=30.0
                )
        self.by_dest = {link.dest.chain_id: link for link in self.links}

    @property
    def address(self) -> str:
        return str(self.account.address)

    def step(self) -> int:
        """Settle open deliveries, then deliver what is ready; returns deliveries made or settled."""
        if not self.recovered:
            self.settle_open(resend=True)
            for sender in self.senders.values():
                sender.resync()
            self.recovered = True
        settled = self.settle_open(resend=False)
        return settled + sum(self._deliver(link) for link in self.links)

    # -- open operations ---------------------------------------------------------------------

    def settle_open(self, *, resend: bool) -> int:
        """Finish the delivery operations whose outcome is unknown (after a crash: re-send the same
        signed bytes first; a transaction that can no longer be mined is marked dropped)."""
        done = 0
        for op in self.store.live_deliveries(self.address):
            link = self.by_dest.get(op.dest_chain_id)
            if link is None:
                continue
            sender = self.senders[op.dest_chain_id]
            receipt = self._receipt(link, op.tx_hash)
            if receipt is None and (resend or op.status is DeliveryStatus.SIGNED):
                try:
                    sender.send_raw(HexBytes(op.raw_tx), HexBytes(op.tx_hash))
                    self.store.mark_delivery(op.id, DeliveryStatus.SENT)
                except ChainUnavailableError:
                    raise
                except TransactionError as exc:
                    self._dropped(link, op, str(exc))
                    done += 1
                    continue
            if receipt is None and (op.dest_chain_id in self.stalled_chains
                                    or (not resend and op.status is DeliveryStatus.SENT)):
                continue  # still pending; looked at again next step
            done += self._finish(link, op)
        return done

    def _receipt(self, link: Link, tx_hash: str) -> object | None:
        try:
            return retry_read(
                lambda: link.dest.web3.eth.get_transaction_receipt(tx_hash),  # type: ignore[arg-type]
                what="eth_getTransactionReceipt",
            )
        except TransactionNotFound:
            return None

    def _finish(self, link: Link, op: DeliveryRow) -> int:
        t = tag("submitter", link)
        sender = self.senders[op.dest_chain_id]
        try:
            receipt = sender.wait(HexBytes(op.tx_hash))
        except TransactionTimeoutError:
            log.warning(
                "%s delivery of transfer %d (tx %s) not mined yet; checking again later",
                t,
                op.transfer_id & 0xFFFFFFFF,
                op.tx_hash,
            )
            return 0
        except TransactionRevertedError as exc:
            self.store.mark_delivery(op.id, DeliveryStatus.REVERTED, str(exc))
            self._after_revert(link, op.source_chain_id, op.transfer_id, exc)
            return 1
        self.store.finish_delivery(
            op.id, op.source_chain_id, op.transfer_id, tx_hash=op.tx_hash, block=int(receipt["blockNumber"])
        )
        log.info(
            "%s delivered transfer %d in tx %s (block %d, gas %d)",
            t,
            op.transfer_id & 0xFFFFFFFF,
            op.tx_hash,
            int(receipt["blockNumber"]),
            int(receipt["gasUsed"]),
        )
        return 1

    def _dropped(self, link: Link, op: DeliveryRow, reason: str) -> None:
        """The node will never mine ``op`` (its nonce went to another transaction)."""
        self.store.mark_delivery(op.id, DeliveryStatus.DROPPED, reason)
        self.senders[op.dest_chain_id].resync()
        if link.dest.processed(op.transfer_id):
            self.store.mark_delivered(
                op.source_chain_id,
                op.transfer_id,
                tx_hash=None,
                block=None,
                reason="processed at the destination",
            )
        log.warning(
            "%s delivery tx %s dropped (%s); the transfer is tried again",
            tag("submitter", link),
            op.tx_hash,
            reason,
        )

    def _after_revert(
        self, link: Link, source_chain_id: int, transfer_id: int, exc: TransactionRevertedError
    ) -> None:
        t = tag("submitter", link)
        nonce = transfer_id & 0xFFFFFFFF
        if exc.error_name == "BridgeAlreadyProcessed" or link.dest.processed(transfer_id):
            self.store.mark_delivered(
                source_chain_id, transfer_id, tx_hash=None, block=None, reason="processed at the destination"
            )
            log.info("%s transfer %d was already processed at the destination", t, nonce)
            return
        transient = exc.error_name in TRANSIENT_REVERTS
        reason = str(exc).removeprefix("reverted: ")
        status = self.store.mark_retry(
            source_chain_id,
            transfer_id,
            reason,
            outcome=TransferOutcome.DEFERRED if transient else TransferOutcome.REFUSED,
            policy=self.settings.retry_policy(),
        )
        failed = status is TransferStatus.FAILED
        level = logging.ERROR if failed else logging.WARNING
        log.log(
            level,
            "%s transfer %d not delivered: %s (%s)",
            t,
            nonce,
            reason,
            "failed; still retried, at most hourly" if failed else "will retry",
        )

    # -- new deliveries ----------------------------------------------------------------------

    def _deliver(self, link: Link) -> int:
        src, dest, t = link.source, link.dest, tag("submitter", link)
        if dest.chain_id in self.stalled_chains:
            return 0  # held until the destination makes blocks again; the transfers stay pending
        pending = [p for p in self.store.pending_transfers(src.chain_id) if p.dest_chain_id == dest.chain_id]
        if not pending:
            return 0
        rows = {p.transfer_id: p for p in pending}
        attestations = self.store.attestations(src.chain_id, rows)
        validators, threshold = dest.validator_set()
        in_flight = frozenset(
            op.transfer_id
            for op in self.store.live_deliveries(self.address)
            if op.dest_chain_id == dest.chain_id
        )
        decisions = plan_deliveries(rows, attestations, validators, threshold, frozenset(), in_flight)
        sender = self.senders[dest.chain_id]
        fees = sender.fees() if any(isinstance(d, Deliver) for d in decisions) else {}
        sent: list[DeliveryRow] = []
        for decision in decisions:
            if isinstance(decision, Wait):
                self.store.note_waiting(src.chain_id, decision.transfer_id, decision.reason)
                continue
            if isinstance(decision, Done) or len(sent) >= self.settings.delivery_batch:
                continue
            assert isinstance(decision, Deliver)
            tid, row = decision.transfer_id, rows[decision.transfer_id]
            if dest.processed(tid):
                self.store.mark_delivered(
                    src.chain_id, tid, tx_hash=None, block=None, reason="processed at the destination"
                )
                log.info("%s transfer %d was already processed at the destination", t, tid & 0xFFFFFFFF)
                continue
            if not link.source_canonical(row.tx_hash, row.block_hash):
                self.store.mark_retry(
                    src.chain_id,
                    tid,
                    "the departure is no longer on the source chain's canonical chain (reorg)",
                    outcome=TransferOutcome.REFUSED,
                    policy=self.settings.retry_policy(),
                )
                log.warning(
                    "%s transfer %d: departure tx %s left the canonical chain",
                    t,
                    tid & 0xFFFFFFFF,
                    row.tx_hash,
                )
                continue
            try:
                tx = sender.call_tx(link.deliver_call(decision.message, decision.signatures))
                tx.update(fees)  # type: ignore[typeddict-item]
                raw, tx_hash = sender.sign(tx)  # estimates the gas: a delivery that would revert is not sent
            except TransactionRevertedError as exc:
                self._after_revert(link, src.chain_id, tid, exc)
                continue
            nonce = int(TypedTransaction.from_bytes(HexBytes(raw)).as_dict()["nonce"])
            op_id = self.store.record_signed(
                src.chain_id, tid, dest.chain_id, self.address, nonce, "0x" + bytes(tx_hash).hex(), bytes(raw)
            )
            op = DeliveryRow(
                op_id,
                src.chain_id,
                tid,
                dest.chain_id,
                self.address,
                nonce,
                "0x" + bytes(tx_hash).hex(),
                bytes(raw),
                DeliveryStatus.SIGNED,
            )
            try:
                sender.send_raw(raw, tx_hash)
            except ChainUnavailableError:
                raise  # stays 'signed': re-sent as is on the next step
            except TransactionError as exc:
                self._dropped(link, op, str(exc))
                continue
            self.store.mark_delivery(op_id, DeliveryStatus.SENT)
            log.info(
                "%s sent delivery of transfer %d (%s token %d) in tx %s, nonce %d",
                t,
                tid & 0xFFFFFFFF,
                decision.message.collection,
                decision.message.token_id,
                op.tx_hash,
                nonce,
            )
            sent.append(op)
        return sum(self._finish(link, op) for op in sent)
