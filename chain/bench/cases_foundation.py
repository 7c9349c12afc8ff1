"""Gas cases of the foundation placeholder collection (replaced by the issuance family)."""

from __future__ import annotations

from chain.bench.gas import GasBench, gas_case


@gas_case
def placeholder_collection(bench: GasBench) -> dict[str, int]:
    if "CreatorCollection" not in bench.artifacts:
        return {}
    owner = bench.account(0).address
    collection, receipt = bench.deploy("CreatorCollection", "Bench", "B", owner)
    bench.gas(collection.functions.mint(owner, "bafyfirst"))
    return {
        "placeholder_deploy": int(receipt["gasUsed"]),
        "placeholder_mint": bench.gas(collection.functions.mint(owner, "bafysecond")),
    }
