"""Gas cases of the issuance family: factory, collection mints and editions, registry, rentals.

Every figure is whole-transaction gas. ``mint_work`` is measured in steady state: the recipient (the
creator) already holds a token of the collection, so its balance slot exists. ``mint_work_new_holder``
is the creator's first mint to itself, when it holds nothing: its balance slot is new (20,000 gas
instead of a 2,900 update, so about 17,100 more). A mint to a third party costs 2,500 more than to the
sender (its account is cold). See contracts/README.md.

``transfer`` is a holder's transferFrom to an account that holds nothing of the collection, without
a transfer policy; the ``*_policy`` figures are the same operations on a collection with a
jurisdiction profile (TransferPolicy: no resale, a holding period), whose hook records each
recipient's acquisition time (a new slot). ``commit_rights`` is the creator's front-running guard
(RightsRegistry.commit) sent before a mint.
"""

from __future__ import annotations

import hashlib

from web3.contract import Contract

from bench.gas import GasBench, gas_case

ZERO = "0x" + "00" * 20


def _work(label: str) -> tuple[bytes, bytes]:
    """(content hash, binary dag-pb CIDv1) of a made-up work: realistic, non-zero calldata."""
    content_hash = hashlib.sha256(f"content:{label}".encode()).digest()
    digest = hashlib.sha256(f"dag:{label}".encode()).digest()
    return content_hash, bytes([0x01, 0x70, 0x12, 0x20]) + digest


@gas_case
def issuance(bench: GasBench) -> dict[str, int]:
    if "CollectionFactory" not in bench.artifacts:
        return {}
    creator = bench.account(1).address
    registry, _ = bench.deploy("RightsRegistry", bench.account(0).address)
    collection_impl, _ = bench.deploy("CreatorCollection")
    editions_impl, _ = bench.deploy("Editions1155")
    factory, _ = bench.deploy("CollectionFactory", registry.address, collection_impl.address,
                              editions_impl.address)
    bench.send(registry.functions.setFactory(factory.address, True))

    settings = ("Bench Works", "BW", creator, bench.account(4).address, 500, ZERO, False)
    salt = hashlib.sha256(b"bench-collection").digest()
    figures = {"deploy_collection": bench.gas(factory.functions.createCollection(settings, salt), by=1)}
    address = factory.functions.predictCollectionAddress(creator, salt).call()
    collection = bench.at("CreatorCollection", address)

    figures["mint_work_new_holder"] = bench.gas(  # the creator holds nothing yet
        collection.functions.mintWork(creator, *_work("warm-up")), by=1)
    figures["mint_work"] = bench.gas(collection.functions.mintWork(creator, *_work("single")), by=1)
    edition_1 = bench.gas(collection.functions.mintEdition(creator, 1, *_work("edition-1")), by=1)
    edition_100 = bench.gas(collection.functions.mintEdition(creator, 100, *_work("edition-100")), by=1)
    figures["edition_100"] = edition_100
    figures["edition_marginal"] = round((edition_100 - edition_1) / 99)

    figures["register_rights"] = bench.gas(
        registry.functions.register(*_work("registered-only")), by=2)
    renter = bench.account(5).address
    figures["set_rental_user"] = bench.gas(
        collection.functions.setUser(2, renter, 4_102_444_800), by=1)  # first rental of token 2
    collector = bench.account(2).address
    figures["transfer"] = bench.gas(collection.functions.transferFrom(creator, collector, 1), by=1)
    commitment = registry.functions.commitmentOf(_work("committed")[0], creator).call()
    figures["commit_rights"] = bench.gas(registry.functions.commit(commitment), by=1)
    figures.update(_with_policy(bench, registry, factory, creator, collector))
    return figures


def _with_policy(bench: GasBench, registry: Contract, factory: Contract, creator: str,
                 collector: str) -> dict[str, int]:
    """Mint and transfer on a collection whose TransferPolicy holds a jurisdiction profile."""
    if "TransferPolicy" not in bench.artifacts:
        return {}
    policy, _ = bench.deploy("TransferPolicy", bench.account(0).address, ZERO)
    bench.send(registry.functions.setTransferPolicy(policy.address))
    settings = ("Bench Policed", "BP", creator, bench.account(4).address, 500, ZERO, False)
    salt = hashlib.sha256(b"bench-policed").digest()
    bench.send(factory.functions.createCollection(settings, salt), by=1)
    address = factory.functions.predictCollectionAddress(creator, salt).call()
    collection = bench.at("CreatorCollection", address)
    bench.send(policy.functions.setRules(collection.address, (True, True, False, 3600)))
    bench.send(collection.functions.mintWork(creator, *_work("policed-warm-up")), by=1)
    return {
        "mint_work_policy": bench.gas(collection.functions.mintWork(creator, *_work("policed")), by=1),
        "transfer_policy": bench.gas(collection.functions.transferFrom(creator, collector, 1), by=1),
    }
