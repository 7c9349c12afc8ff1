"""Gas cases of the bridge family: lock on home, delivery (mint) on remote, burn, return delivery (unlock).

Both ends are deployed on the one bench anvil (their peer chain id is then the same chain id, which
the contracts allow). Digests come from the destination's own ``hashMessage`` view and are signed
with anvil dev keys 10 and 11 (2 of the 3 validators 10, 11, 12), ordered by address.

What the figures include (whole transactions):
- ``bridge_lock``: the first lock of a token (its provenance and custody slots are new); the
  lockbox has locked before and the owner approved it for all beforehand. Includes the on-chain
  reads of the rights (registry record, work, token URI, royalty), the rate limits (the owner and
  the collection have locked before, so their budget buckets are updated, not new), the transfer
  and the event.
- ``bridge_deliver``: minting on the remote side with 2-of-3 signatures and the full rights, in
  steady state: the recipient already holds a wrapped token and the processed bitmap word is in
  use (one earlier delivery). No royalty split (the receiver is an account).
- ``bridge_deliver_first``: the same delivery for the first time: the recipient holds no wrapped token
  yet and the processed bitmap word is new (two more new slots than ``bridge_deliver``).
- ``bridge_burn``: the owner sends the wrapped token home (rights read back, storage cleared,
  provenance extended, the token URI rendered for the return message). It is the first departure
  from remote of this owner and this collection: both budget buckets are new slots (about 44,000
  gas of the figure; a later burn by the same owner or of the same collection updates them).
- ``bridge_unlock``: the return delivery on home with 2-of-3 signatures (custody released).
"""

from __future__ import annotations

import hashlib
from typing import Any

from web3.logs import DISCARD

from bench.gas import GasBench, gas_case

ZERO = "0x" + "00" * 20
VALIDATORS = (10, 11, 12)
SIGNERS = (10, 11)
HOME_RECIPIENT = 2
RIGHTS_FIELDS = ("tokenURI", "cid", "contentHash", "royaltyReceiver", "royaltyBps", "splitRecipients",
                 "splitBps", "licenseTermsHash", "provenanceHash")


def _work(label: str) -> tuple[bytes, bytes]:
    content_hash = hashlib.sha256(f"content:{label}".encode()).digest()
    digest = hashlib.sha256(f"dag:{label}".encode()).digest()
    return content_hash, bytes([0x01, 0x70, 0x12, 0x20]) + digest


def _signatures(bench: GasBench, digest: bytes) -> list[bytes]:
    from eth_account import Account

    signers = sorted((bench.account(i) for i in SIGNERS), key=lambda a: int(a.address, 16))
    return [bytes(Account.unsafe_sign_hash(digest, a.key).signature) for a in signers]


def _message(source: Any, dest: Any, event: Any, chain_id: int) -> tuple[Any, ...]:
    args = event["args"]
    r = args["rights"]
    rights = tuple(r[k] for k in RIGHTS_FIELDS) if hasattr(r, "keys") else tuple(r)
    return (chain_id, chain_id, source.address, dest.address, args["transferId"], args["collection"],
            args["tokenId"], args["sender"], args["recipient"], rights)


def _deliver(bench: GasBench, source: Any, dest: Any, receipt: Any, event_name: str) -> int:
    chain_id = bench.web3.eth.chain_id
    event = getattr(source.events, event_name)().process_receipt(receipt, errors=DISCARD)[0]
    message = _message(source, dest, event, chain_id)
    digest = dest.functions.hashMessage(message).call()
    return bench.gas(dest.functions.deliver(message, _signatures(bench, digest)), by=0)


@gas_case
def bridge(bench: GasBench) -> dict[str, int]:
    if "HomeLockbox" not in bench.artifacts:
        return {}
    admin = bench.account(0).address
    creator, collector = bench.account(1).address, bench.account(HOME_RECIPIENT).address
    validators = sorted((bench.account(i).address for i in VALIDATORS), key=lambda a: int(a, 16))
    limits = (1000, 1000, 50, 100)  # per hour: outbound, inbound, per sender, per collection

    registry, _ = bench.deploy("RightsRegistry", admin)
    collection_impl, _ = bench.deploy("CreatorCollection")
    editions_impl, _ = bench.deploy("Editions1155")
    factory, _ = bench.deploy("CollectionFactory", registry.address, collection_impl.address,
                              editions_impl.address)
    bench.send(registry.functions.setFactory(factory.address, True))
    salt = hashlib.sha256(b"bench-bridge").digest()
    settings = ("Bridge Works", "BRW", creator, bench.account(4).address, 750, ZERO, False)
    bench.send(factory.functions.createCollection(settings, salt), by=1)
    address = factory.functions.predictCollectionAddress(creator, salt).call()
    collection = bench.at("CreatorCollection", address)

    lockbox, _ = bench.deploy("HomeLockbox", registry.address, ZERO, admin, validators, 2, *limits)
    wrapped, _ = bench.deploy("WrappedCollection", "Chainright Wrapped", "CRW", admin)
    remote, _ = bench.deploy("RemoteBridge", wrapped.address, admin, validators, 2, *limits)
    chain_id = bench.web3.eth.chain_id
    bench.send(wrapped.functions.setBridge(remote.address))
    bench.send(lockbox.functions.setPeer(chain_id, remote.address))
    bench.send(remote.functions.setPeer(chain_id, lockbox.address))
    bench.send(collection.functions.setApprovalForAll(lockbox.address, True), by=HOME_RECIPIENT)

    def lock(label: str) -> tuple[int, Any]:
        content_hash, cid = _work(label)
        token_id = collection.functions.totalSupply().call() + 1
        bench.send(collection.functions.mintWork(collector, content_hash, cid), by=1)
        call = lockbox.functions.lock(collection.address, token_id, collector, chain_id, content_hash)
        receipt = bench.send(call, by=HOME_RECIPIENT)
        return token_id, receipt

    # Warm-up: one token through, so the recipient holds a wrapped token and the bitmap word is in use.
    _, warm = lock("warm-up")
    first = _deliver(bench, lockbox, remote, warm, "TokenLocked")

    token_id, locked = lock("measured")
    figures = {"bridge_lock": int(locked["gasUsed"]), "bridge_deliver_first": first}
    figures["bridge_deliver"] = _deliver(bench, lockbox, remote, locked, "TokenLocked")
    wrapped_id = wrapped.functions.wrappedIdOf(collection.address, token_id).call()
    burned = bench.send(remote.functions.burnToHome(wrapped_id, collector), by=HOME_RECIPIENT)
    figures["bridge_burn"] = int(burned["gasUsed"])
    figures["bridge_unlock"] = _deliver(bench, remote, lockbox, burned, "TokenBurned")
    return figures
