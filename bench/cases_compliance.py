"""Gas cases of the compliance family. Every figure is whole-transaction gas (21,000 base included)."""

from __future__ import annotations

from web3 import Web3

from bench.gas import GasBench, gas_case

EXPIRES_AT = 4_102_444_800  # 2100-01-01


@gas_case
def identity_registry(bench: GasBench) -> dict[str, int]:
    """Identity writes by an operator.

    - ``identity_register``: first record of an account.
    - ``identity_batch_10``: ``batchSetIdentities`` of 10 new accounts (one transaction).
    """
    if "IdentityRegistry" not in bench.artifacts:
        return {}
    admin = bench.account(0).address
    registry, _ = bench.deploy("IdentityRegistry", admin)
    role = registry.functions.OPERATOR_ROLE().call()
    bench.send(registry.functions.grantRole(role, admin))
    figures: dict[str, int] = {}
    figures["identity_register"] = bench.gas(
        registry.functions.registerIdentity(bench.account(1).address, 2, b"FR", EXPIRES_AT))
    accounts = [Web3.to_checksum_address(f"0x{i:040x}") for i in range(0x1000, 0x100A)]
    figures["identity_batch_10"] = bench.gas(registry.functions.batchSetIdentities(
        accounts, [1] * 10, [b"DE"] * 10, [EXPIRES_AT] * 10))
    return figures
