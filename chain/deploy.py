"""Deploy the contract families onto one chain, recording each in the deployment registry.

The plan is data: an ordered list of steps, each naming a contract and how its constructor
arguments follow from what is already deployed. Steps whose contract is not in the build are
skipped. A contract already deployed from the same build with the same arguments, whose code is
still on chain, is reused rather than deployed again (so restarts keep their addresses).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from web3.types import TxParams

from chain.artifacts import Artifacts
from chain.deployments import Deployment, DeploymentRegistry
from chain.nodes import Progress, _quiet
from chain.settings import ChainSettings, ChainSpec
from chain.tx import ErrorDecoder, TxSender, retry_read


@dataclass(frozen=True)
class DeployContext:
    """What a step can use to compute its arguments."""

    chain_id: int
    chain_name: str
    deployer: str
    addresses: dict[str, str]


Args = Callable[[DeployContext], Sequence[Any]]


def _no_args(_: DeployContext) -> Sequence[Any]:
    return ()


@dataclass(frozen=True)
class Step:
    """Deploy ``contract`` (registered as ``key``), then send ``wiring`` transactions."""

    contract: str
    args: Args = _no_args
    key: str | None = None
    wiring: Callable[[DeployContext, Any], list[TxParams]] | None = field(default=None)

    @property
    def name(self) -> str:
        return self.key or self.contract


@dataclass(frozen=True)
class DeployResult:
    deployment: Deployment
    reused: bool


def _allow_factory(ctx: DeployContext, factory: Any) -> list[TxParams]:
    """RightsRegistry.setFactory(factory, true): the factory's collections may record their mints."""
    data = function_signature_to_4byte_selector("setFactory(address,bool)") + abi_encode(
        ["address", "bool"], [factory.address, True])
    return [{"to": ctx.addresses["RightsRegistry"], "data": "0x" + data.hex()}]  # type: ignore[typeddict-item]


def _grant_operator_to_deployer(ctx: DeployContext, registry: Any) -> list[TxParams]:
    """For now the deployer is also the identity registry's operator (the KYC flow's writer)."""
    role = registry.functions.OPERATOR_ROLE().call()
    return [TxSender.call_tx(registry.functions.grantRole(role, ctx.deployer))]


MARKETPLACE_FEE_BPS = 250
"""Platform fee of the marketplace and the milestone escrow at deployment (2.5%)."""


def default_plan() -> list[Step]:
    """Every contract family, in dependency order."""
    return [
        # Issuance: the rights registry (owned by the deployer, who allows factories), the two
        # locked implementations the creators' clones delegate to, and the factory making the clones.
        Step("RightsRegistry", args=lambda c: (c.deployer,)),
        Step("CreatorCollection"),
        Step("Editions1155"),
        Step("CollectionFactory",
             args=lambda c: (c.addresses["RightsRegistry"], c.addresses["CreatorCollection"],
                             c.addresses["Editions1155"]),
             wiring=_allow_factory),
        # royalty: the implementation every splitter clone delegates to, then the factory of clones
        Step("RoyaltySplitter"),
        Step("SplitterFactory", args=lambda c: (c.addresses["RoyaltySplitter"],)),
        # licensing: one contract for every collection
        Step("Licensing"),
        # compliance: admin = deployer, who is also an operator for now
        Step("IdentityRegistry", args=lambda c: (c.deployer,), wiring=_grant_operator_to_deployer),
        # Marketplace family: admin (every role) = deployer, treasury = deployer (local dev),
        # platform fee 2.5%. Production grants the roles to their holders and sets the treasury.
        Step("Marketplace", args=lambda c: (c.deployer, c.deployer, MARKETPLACE_FEE_BPS)),
        Step("MilestoneEscrow", args=lambda c: (c.deployer, c.deployer, MARKETPLACE_FEE_BPS)),
    ]


def _jsonable(args: Sequence[Any]) -> list[Any]:
    return [a if isinstance(a, (int, str, bool)) or a is None else str(a) for a in args]


def deploy_all(
    sender: TxSender,
    artifacts: Artifacts,
    registry: DeploymentRegistry,
    *,
    chain_name: str,
    plan: Sequence[Step] | None = None,
    force: bool = False,
    progress: Progress = _quiet,
) -> list[DeployResult]:
    """Deploy (or reuse) every step of ``plan`` on the chain ``sender`` is connected to."""
    plan = default_plan() if plan is None else plan
    chain_id = sender.chain_id
    known = registry.for_chain(chain_id)
    ctx = DeployContext(chain_id=chain_id, chain_name=chain_name, deployer=sender.address,
                        addresses={})
    results: list[DeployResult] = []
    steps = [s for s in plan if s.contract in artifacts]
    for skipped in (s for s in plan if s.contract not in artifacts):
        progress(f"{chain_name}: skip {skipped.name} (not in this build)")
    for index, step in enumerate(steps, start=1):
        artifact = artifacts.get(step.contract)
        args = list(step.args(ctx))
        previous = known.get(step.name)
        if not force and previous is not None and previous.code_hash == artifact.code_hash \
                and previous.args == _jsonable(args):
            code = retry_read(partial(sender.web3.eth.get_code, previous.address),  # type: ignore[arg-type]
                              what="eth_getCode")
            if len(code) > 0:
                ctx.addresses[step.name] = previous.address
                results.append(DeployResult(previous, reused=True))
                progress(f"{chain_name}: [{index}/{len(steps)}] {step.name} reused at "
                         f"{previous.address}")
                continue
        address, receipt = sender.deploy(artifact.abi, artifact.bytecode, *args)
        deployment = Deployment(
            contract=step.name, address=address, tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block=int(receipt["blockNumber"]), code_hash=artifact.code_hash, args=_jsonable(args),
            artifact=step.contract,
        )
        registry.record(chain_id, deployment)
        ctx.addresses[step.name] = address
        if step.wiring is not None:
            contract = sender.web3.eth.contract(address=address, abi=artifact.abi)  # type: ignore[call-overload]
            for tx in step.wiring(ctx, contract):
                sender.transact(tx)
        results.append(DeployResult(deployment, reused=False))
        progress(f"{chain_name}: [{index}/{len(steps)}] {step.name} deployed at {address} "
                 f"(gas {receipt['gasUsed']}, block {receipt['blockNumber']})")
    return results


def deploy_to_chains(
    settings: ChainSettings,
    specs: Sequence[ChainSpec],
    *,
    force: bool = False,
    progress: Progress = _quiet,
) -> dict[str, list[DeployResult]]:
    """Compile, then deploy (or reuse) every family on each chain, connecting through ape.

    The same path serves ``chainright deploy`` and ``ape run deploy``.
    """
    from eth_account import Account

    from chain.artifacts import compile_project
    from chain.connection import ape_connection

    progress("compiling contracts/ ...")
    artifacts = compile_project()
    registry = DeploymentRegistry(settings.deployments_file)
    account = Account.from_key(settings.deployer_key.get_secret_value())
    decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
    out: dict[str, list[DeployResult]] = {}
    for spec in specs:
        progress(f"{spec.name}: deploying through ape to chain {spec.chain_id} at {spec.rpc_url}")
        with ape_connection(spec) as provider:
            sender = TxSender(provider.web3, account, decoder=decoder,
                              timeout_s=settings.tx_timeout_s)
            out[spec.name] = deploy_all(sender, artifacts, registry, chain_name=spec.name,
                                        force=force, progress=progress)
    return out
