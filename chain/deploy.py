"""Deploy the contract families onto one chain, recording each in the deployment registry.

The plan is data: an ordered list of steps, each naming a contract and how its constructor
arguments follow from what is already deployed. Steps whose contract is not in the build are
skipped, and so are steps that belong to another chain (``chains``). A contract already deployed
from the same build with the same arguments, whose code is still on chain, is reused rather than
deployed again (so restarts keep their addresses).

A step's ``wiring`` (same-chain set-up transactions such as ``setFactory``) reads the chain and returns
only the transactions still missing, and runs both after a fresh deploy and on reuse: a deploy cut
short between a contract and its wiring (Ctrl-C, RPC failure) is healed by the next run.

Cross-chain wiring (the bridge's peers) runs after every chosen chain is deployed: a step's
``link`` sees the addresses recorded for the other chains and returns the transactions still
needed (none when the chain already points at them), so it is safe to run again.

A registry that knows nothing of a chain holding our contracts (lost, corrupted, moved aside) must
not lead to a second set at new addresses (open orders, KYC sync and the bridge point at the first):
``guard_against_fork`` looks at the deployer's CREATE addresses (one per nonce), recovers what it
finds from the creation transactions (same build and arguments as the plan would deploy), and
refuses when something it found cannot be recovered, unless the operator passes
``--force-new-deployment``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.types import TxParams

from chain.artifacts import Artifacts
from chain.deployments import Deployment, DeploymentRegistry
from chain.devaccounts import dev_account
from chain.errors import ChainSettingsError, DeploymentError
from chain.progress import Progress, quiet
from chain.reverts import ErrorDecoder
from chain.settings import ChainSettings, ChainSpec
from chain.tx import TxSender, retry_read

log = logging.getLogger(__name__)

ZERO_ADDRESS = "0x" + "00" * 20

DEV_BRIDGE_VALIDATORS = (10, 11, 12)
"""Anvil dev accounts that validate the bridge on local chains (they only sign, so need no funds)."""


def dev_bridge_validators() -> tuple[str, ...]:
    """Addresses of the development validators, ascending (the order the contracts require)."""
    return tuple(sorted((dev_account(i).address for i in DEV_BRIDGE_VALIDATORS), key=lambda a: int(a, 16)))


@dataclass(frozen=True)
class BridgeOptions:
    """What the bridge contracts are deployed with: the validator set and the rate limits.

    Rate limits are transfers per hour (token buckets refilled hourly, IBridgeEndpoint): a global
    ceiling per direction sized for a compromise (it bounds how fast forged messages could empty the
    lockbox), and departure budgets per sender and per home collection, each a small share of it, so
    that one account or one collection cannot use up the bridge for everyone else.
    """

    validators: tuple[str, ...] = field(default_factory=dev_bridge_validators)
    threshold: int = 2
    limit: int = 1000
    """Global ceiling: transfers per hour and direction (per endpoint)."""
    per_sender: int = 50
    """Departures per hour by one sender (5% of the ceiling)."""
    per_collection: int = 100
    """Departures per hour of one home collection (10% of the ceiling)."""

    @property
    def rate_limits(self) -> tuple[int, int, int, int]:
        """The constructor's and ``setRateLimits``' arguments: outbound, inbound, sender, collection."""
        return (self.limit, self.limit, self.per_sender, self.per_collection)

    @classmethod
    def from_settings(cls, settings: ChainSettings) -> BridgeOptions:
        if settings.environment == "production" and not settings.bridge_validators:
            raise ChainSettingsError(
                "CHAINRIGHT_CHAIN_BRIDGE_VALIDATORS is empty: the bridge would trust anvil's public "
                "development accounts; set the validator addresses for the production environment"
            )
        validators = tuple(sorted(settings.bridge_validators, key=lambda a: int(a, 16))) \
            or dev_bridge_validators()
        return cls(validators=validators, threshold=settings.bridge_threshold,
                   limit=settings.bridge_rate_limit, per_sender=settings.bridge_rate_per_sender,
                   per_collection=settings.bridge_rate_per_collection)


@dataclass(frozen=True)
class DeployContext:
    """What a step can use to compute its arguments."""

    chain_id: int
    chain_name: str
    deployer: str
    addresses: dict[str, str]
    peers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Addresses recorded for the other chains, by chain name (for cross-chain links)."""
    chain_ids: Mapping[str, int] = field(default_factory=dict)
    """Chain ids by chain name."""
    bridge: BridgeOptions = field(default_factory=BridgeOptions)


Args = Callable[[DeployContext], Sequence[Any]]


def _no_args(_: DeployContext) -> Sequence[Any]:
    return ()


@dataclass(frozen=True)
class Step:
    """Deploy ``contract`` (registered as ``key``), then send ``wiring`` transactions.

    ``wiring`` must be idempotent: it checks the chain and returns only the transactions still
    missing (it also runs when the contract is reused).

    ``chains`` limits the step to those chain names (None: every chain). ``link`` runs after every
    chosen chain is deployed and returns the cross-chain wiring transactions still missing.
    """

    contract: str
    args: Args = _no_args
    key: str | None = None
    wiring: Callable[[DeployContext, Any], list[TxParams]] | None = field(default=None)
    chains: tuple[str, ...] | None = None
    link: Callable[[DeployContext, Any], list[TxParams]] | None = field(default=None)

    @property
    def name(self) -> str:
        return self.key or self.contract


@dataclass(frozen=True)
class DeployResult:
    deployment: Deployment
    reused: bool


def _call(address: str, signature: str, types: list[str], values: list[Any]) -> TxParams:
    data = function_signature_to_4byte_selector(signature) + abi_encode(types, values)
    return {"to": address, "data": "0x" + data.hex()}  # type: ignore[typeddict-item]


def _read(web3: Any, address: str, signature: str, types: list[str], values: list[Any],
          returns: str) -> Any:
    """eth_call ``signature`` on ``address`` (retried: a read), decoding one ``returns`` value."""
    call = _call(address, signature, types, values)
    raw = retry_read(partial(web3.eth.call, call), what=f"eth_call {signature.split('(')[0]}")
    return abi_decode([returns], bytes(raw))[0]


def _allow_factory(ctx: DeployContext, factory: Any) -> list[TxParams]:
    """RightsRegistry.setFactory(factory, true), unless the registry already allows the factory."""
    registry = ctx.addresses["RightsRegistry"]
    if _read(factory.w3, registry, "isFactory(address)", ["address"], [factory.address], "bool"):
        return []
    return [_call(registry, "setFactory(address,bool)", ["address", "bool"], [factory.address, True])]


def _grant_operator_to_deployer(ctx: DeployContext, registry: Any) -> list[TxParams]:
    """For now the deployer is also the identity registry's operator (the KYC flow's writer)."""
    role = retry_read(registry.functions.OPERATOR_ROLE().call, what="OPERATOR_ROLE")
    if retry_read(registry.functions.hasRole(role, ctx.deployer).call, what="hasRole"):
        return []
    return [TxSender.call_tx(registry.functions.grantRole(role, ctx.deployer))]


DEFAULT_ADMIN_ROLE = b"\x00" * 32
"""OpenZeppelin AccessControl's admin role (the one ``Marketplace.setIdentityRegistry`` requires)."""


def _set_identity_registry(ctx: DeployContext, market: Any) -> list[TxParams]:
    """Marketplace.setIdentityRegistry(IdentityRegistry), so that the on-chain identity policy
    (``setIdentityRequired`` per collection) can be switched on later without a redeploy.

    Nothing is sent when the registry is already set, when no IdentityRegistry is in the build, or
    when the deployer does not hold DEFAULT_ADMIN_ROLE (a production admin must then set it).
    """
    identity = ctx.addresses.get("IdentityRegistry")
    if identity is None or "setIdentityRegistry" not in {f.fn_name for f in market.all_functions()}:
        return []
    current = retry_read(market.functions.identityRegistry().call, what="identityRegistry")
    if str(current).lower() == identity.lower():
        return []
    if not retry_read(market.functions.hasRole(DEFAULT_ADMIN_ROLE, ctx.deployer).call, what="hasRole"):
        log.warning("Marketplace %s: the deployer lacks DEFAULT_ADMIN_ROLE; its identity registry "
                    "stays %s (an admin must call setIdentityRegistry)", market.address, current)
        return []
    return [_call(market.address, "setIdentityRegistry(address)", ["address"], [identity])]


MARKETPLACE_FEE_BPS = 250
"""Platform fee of the marketplace and the milestone escrow at deployment (2.5%)."""


def _set_wrapped_bridge(ctx: DeployContext, bridge: Any) -> list[TxParams]:
    """WrappedCollection.setBridge(bridge): only the remote bridge mints and burns wrapped tokens;
    RemoteBridge.setSplitterFactory(factory): a token arriving with a royalty split is paid through
    this chain's splitter of the same split. Only what the chain does not already say is sent."""
    wrapped = ctx.addresses["WrappedCollection"]
    txs: list[TxParams] = []
    current = _read(bridge.w3, wrapped, "bridge()", [], [], "address")
    if str(current).lower() != str(bridge.address).lower():
        txs.append(_call(wrapped, "setBridge(address)", ["address"], [bridge.address]))
    factory = ctx.addresses.get("SplitterFactory")
    if factory is not None:
        current = _read(bridge.w3, bridge.address, "splitterFactory()", [], [], "address")
        if str(current).lower() != str(factory).lower():
            txs.append(_call(bridge.address, "setSplitterFactory(address)", ["address"], [factory]))
    return txs


def _set_lockbox_splitter(ctx: DeployContext, lockbox: Any) -> list[TxParams]:
    """HomeLockbox.setSplitterImplementation(impl): a royalty receiver that is a clone of this chain's
    RoyaltySplitter travels with its split."""
    impl = ctx.addresses.get("RoyaltySplitter")
    if impl is None:
        return []
    current = _read(lockbox.w3, lockbox.address, "splitterImplementation()", [], [], "address")
    if str(current).lower() == str(impl).lower():
        return []
    return [_call(lockbox.address, "setSplitterImplementation(address)", ["address"], [impl])]


TRANSFER_POLICY_VENUES = (("Marketplace", 1), ("HomeLockbox", 2))
"""What the TransferPolicy must know each contract as (ITransferPolicy.Venue: 1 sale venue, 2 bridge)."""


def _wire_transfer_policy(ctx: DeployContext, policy: Any) -> list[TxParams]:
    """TransferPolicy.setVenue for the marketplace (sale venue) and the lockbox (bridge), and
    RightsRegistry.setTransferPolicy(policy), so that collections accept it when a jurisdiction
    profile is set. Only what the chain does not already say is sent."""
    txs: list[TxParams] = []
    for key, kind in TRANSFER_POLICY_VENUES:
        venue = ctx.addresses.get(key)
        if venue is not None and _read(policy.w3, policy.address, "venueOf(address)", ["address"], [venue],
                                       "uint8") != kind:
            txs.append(_call(policy.address, "setVenue(address,uint8)", ["address", "uint8"], [venue, kind]))
    registry = ctx.addresses.get("RightsRegistry")
    if registry is not None:
        current = _read(policy.w3, registry, "transferPolicy()", [], [], "address")
        if str(current).lower() != str(policy.address).lower():
            txs.append(_call(registry, "setTransferPolicy(address)", ["address"], [policy.address]))
    return txs


def _link_peer(peer_chain: str, peer_contract: str) -> Callable[[DeployContext, Any], list[TxParams]]:
    """setPeer(chain id, address) towards ``peer_contract`` on ``peer_chain``, unless already set."""

    def link(ctx: DeployContext, endpoint: Any) -> list[TxParams]:
        address = ctx.peers.get(peer_chain, {}).get(peer_contract)
        chain_id = ctx.chain_ids.get(peer_chain)
        if address is None or chain_id is None:
            return []
        current = endpoint.functions.peer().call()
        if int(current[0]) == chain_id and str(current[1]).lower() == address.lower():
            return []
        return [_call(endpoint.address, "setPeer(uint256,address)", ["uint256", "address"],
                      [chain_id, address])]

    return link


def _bridge_args(c: DeployContext) -> tuple[Any, ...]:
    """Admin (the deployer, also guardian), validators, threshold, rate limits (BridgeOptions.rate_limits)."""
    b = c.bridge
    return (c.deployer, list(b.validators), b.threshold, *b.rate_limits)


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
        # The identity registry is wired in, but no collection requires identity until a policy
        # admin calls setIdentityRequired.
        Step("Marketplace", args=lambda c: (c.deployer, c.deployer, MARKETPLACE_FEE_BPS),
             wiring=_set_identity_registry),
        Step("MilestoneEscrow", args=lambda c: (c.deployer, c.deployer, MARKETPLACE_FEE_BPS)),
        # Bridge: the lockbox on home (verifies rights against the home registry, reads license terms
        # from Licensing), the wrapped collection and its bridge on remote. The peers (each endpoint
        # names the other) are linked once both exist.
        Step("HomeLockbox",
             args=lambda c: (c.addresses["RightsRegistry"], c.addresses.get("Licensing", ZERO_ADDRESS),
                             *_bridge_args(c)),
             chains=("home",), wiring=_set_lockbox_splitter, link=_link_peer("remote", "RemoteBridge")),
        # Jurisdiction profiles: the collections' transfer hook (admin and policy admin = deployer, the
        # API's operator key). Knows the marketplace as the sale venue and the lockbox as a bridge.
        Step("TransferPolicy",
             args=lambda c: (c.deployer, c.addresses.get("IdentityRegistry", ZERO_ADDRESS)),
             wiring=_wire_transfer_policy),
        Step("WrappedCollection", args=lambda c: ("Chainright Wrapped", "CRWRAP", c.deployer),
             chains=("remote",)),
        Step("RemoteBridge", args=lambda c: (c.addresses["WrappedCollection"], *_bridge_args(c)),
             chains=("remote",), wiring=_set_wrapped_bridge, link=_link_peer("home", "HomeLockbox")),
        # Wrapped ETH on every chain: offers are paid by transferFrom, so they need an ERC-20; last in
        # the plan so that adding it moved no other contract's address on a fresh chain.
        Step("WrappedEther"),
    ]


def _jsonable(args: Sequence[Any]) -> list[Any]:
    return [a if isinstance(a, (int, str, bool)) or a is None else str(a) for a in args]


def _wire(sender: TxSender, step: Step, ctx: DeployContext, address: str, abi: list[dict[str, Any]]) -> int:
    """Send the step's wiring transactions still missing on chain; returns how many were sent."""
    if step.wiring is None:
        return 0
    contract = sender.web3.eth.contract(address=address, abi=abi)  # type: ignore[call-overload]
    txs = step.wiring(ctx, contract)
    for tx in txs:
        sender.transact(tx)
    return len(txs)


def deploy_all(
    sender: TxSender,
    artifacts: Artifacts,
    registry: DeploymentRegistry,
    *,
    chain_name: str,
    plan: Sequence[Step] | None = None,
    force: bool = False,
    progress: Progress = quiet,
    bridge: BridgeOptions | None = None,
) -> list[DeployResult]:
    """Deploy (or reuse) every step of ``plan`` on the chain ``sender`` is connected to."""
    plan = default_plan() if plan is None else plan
    chain_id = sender.chain_id
    known = registry.for_chain(chain_id)
    ctx = DeployContext(chain_id=chain_id, chain_name=chain_name, deployer=sender.address,
                        addresses={}, bridge=bridge or BridgeOptions())
    results: list[DeployResult] = []
    plan = [s for s in plan if s.chains is None or chain_name in s.chains]
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
                healed = _wire(sender, step, ctx, previous.address, artifact.abi)
                results.append(DeployResult(previous, reused=True))
                progress(f"{chain_name}: [{index}/{len(steps)}] {step.name} reused at "
                         f"{previous.address}" + (f" (re-sent {healed} missing wiring tx)" if healed else ""))
                continue
        address, receipt = sender.deploy(artifact.abi, artifact.bytecode, *args)
        deployment = Deployment(
            contract=step.name, address=address, tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block=int(receipt["blockNumber"]), code_hash=artifact.code_hash, args=_jsonable(args),
            artifact=step.contract,
        )
        # Recorded before its wiring so that an interrupted wiring does not orphan the contract:
        # the next run reuses it and _wire sends only what is still missing.
        registry.record(chain_id, deployment)
        ctx.addresses[step.name] = address
        _wire(sender, step, ctx, address, artifact.abi)
        results.append(DeployResult(deployment, reused=False))
        progress(f"{chain_name}: [{index}/{len(steps)}] {step.name} deployed at {address} "
                 f"(gas {receipt['gasUsed']}, block {receipt['blockNumber']})")
    return results


def link_all(
    sender: TxSender,
    artifacts: Artifacts,
    registry: DeploymentRegistry,
    *,
    chain_name: str,
    chain_ids: Mapping[str, int],
    plan: Sequence[Step] | None = None,
    progress: Progress = quiet,
) -> int:
    """Send the cross-chain wiring still missing on this chain; returns how many transactions."""
    plan = default_plan() if plan is None else plan
    mine = registry.for_chain(sender.chain_id)
    peers = {name: {n: d.address for n, d in registry.for_chain(cid).items()}
             for name, cid in chain_ids.items() if name != chain_name}
    ctx = DeployContext(chain_id=sender.chain_id, chain_name=chain_name, deployer=sender.address,
                        addresses={n: d.address for n, d in mine.items()}, peers=peers, chain_ids=chain_ids)
    sent = 0
    for step in plan:
        if step.link is None or (step.chains is not None and chain_name not in step.chains):
            continue
        deployed = mine.get(step.name)
        if deployed is None or step.contract not in artifacts:
            continue
        contract = sender.web3.eth.contract(address=deployed.address,  # type: ignore[call-overload]
                                            abi=artifacts.get(step.contract).abi)
        for tx in step.link(ctx, contract):
            sender.transact(tx)
            sent += 1
            progress(f"{chain_name}: linked {step.name} to its peer")
    return sent


# -------------------------------------------------------------------------- fork guard

MAX_NONCES_CHECKED = 4096
"""Deployer nonces whose CREATE address is looked at for our code (a dev deployer uses ~40)."""
MAX_BLOCKS_SCANNED = 50_000
"""Blocks read to find creation transactions when recovering a lost registry."""


def create_address(deployer: str, nonce: int) -> str:
    """The address a CREATE from ``deployer`` at ``nonce`` deploys to (RLP of [sender, nonce])."""
    sender = bytes.fromhex(deployer.removeprefix("0x"))
    if nonce == 0:
        enc_nonce = b"\x80"
    elif nonce < 0x80:
        enc_nonce = bytes([nonce])
    else:
        raw = nonce.to_bytes((nonce.bit_length() + 7) // 8, "big")
        enc_nonce = bytes([0x80 + len(raw)]) + raw
    payload = b"\x94" + sender + enc_nonce
    return to_checksum_address(keccak(bytes([0xC0 + len(payload)]) + payload)[-20:])


def deployer_contracts(web3: Any, deployer: str) -> list[str]:
    """Addresses with code among the deployer's CREATE addresses (nonces below its current one)."""
    nonce = int(retry_read(partial(web3.eth.get_transaction_count, deployer), what="eth_getTransactionCount"))
    found = []
    for n in range(min(nonce, MAX_NONCES_CHECKED)):
        address = create_address(deployer, n)
        if len(retry_read(partial(web3.eth.get_code, address), what="eth_getCode")) > 0:
            found.append(address)
    return found


def recover_from_chain(
    web3: Any, deployer: str, artifacts: Artifacts, plan: Sequence[Step], *, chain_id: int, chain_name: str,
    bridge: BridgeOptions, wanted: set[str],
) -> dict[str, Deployment]:
    """Deployments of ``plan`` found in the deployer's creation transactions (blocks 0..head): a step is
    recovered when a creation's input is exactly what the plan would send now (this build's bytecode
    and the arguments that follow from what was recovered before it). Later creations win. Stops
    once every address in ``wanted`` is accounted for."""
    head = int(retry_read(lambda: web3.eth.block_number, what="eth_blockNumber"))
    if head > MAX_BLOCKS_SCANNED:
        return {}
    creations: dict[str, tuple[str, str, int]] = {}  # address -> (input hex, tx hash, block)
    for number in range(head + 1):
        block = retry_read(partial(web3.eth.get_block, number, full_transactions=True), what="eth_getBlock")
        for tx in block["transactions"]:
            if tx.get("to") is None and str(tx["from"]).lower() == deployer.lower():
                address = create_address(deployer, int(tx["nonce"]))
                creations[address] = ("0x" + bytes(tx["input"]).hex(), "0x" + bytes(tx["hash"]).hex(), number)
        if wanted <= set(creations):
            break
    ctx = DeployContext(chain_id=chain_id, chain_name=chain_name, deployer=deployer, addresses={},
                        bridge=bridge)
    out: dict[str, Deployment] = {}
    steps = [s for s in plan if (s.chains is None or chain_name in s.chains) and s.contract in artifacts]
    for step in steps:
        artifact = artifacts.get(step.contract)
        try:
            args = list(step.args(ctx))
        except KeyError:  # depends on a contract that was not recovered
            continue
        constructor = web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode).constructor(*args)
        data = str(constructor.data_in_transaction).lower()
        matches = [(a, c) for a, c in creations.items() if c[0].lower() == data]
        if not matches:
            continue
        address, (_, tx_hash, number) = max(matches, key=lambda m: m[1][2])
        if len(retry_read(partial(web3.eth.get_code, address), what="eth_getCode")) == 0:
            continue
        out[step.name] = Deployment(contract=step.name, address=address, tx_hash=tx_hash, block=number,
                                    code_hash=artifact.code_hash, args=_jsonable(args),
                                    artifact=step.contract)
        ctx.addresses[step.name] = address
    return out


def guard_against_fork(
    sender: TxSender,
    artifacts: Artifacts,
    registry: DeploymentRegistry,
    *,
    chain_name: str,
    plan: Sequence[Step] | None = None,
    bridge: BridgeOptions | None = None,
    force_new_deployment: bool = False,
    progress: Progress = quiet,
) -> int:
    """Before deploying onto a chain the registry knows nothing of: when the deployer's contracts are
    already there, recover them into the registry (returns how many), or raise DeploymentError naming
    the chain, what was found and ``--force-new-deployment`` when some cannot be recovered."""
    chain_id = sender.chain_id
    if registry.for_chain(chain_id):
        return 0
    web3, deployer = sender.web3, sender.address
    found = deployer_contracts(web3, deployer)
    if not found:
        return 0
    if force_new_deployment:
        progress(f"{chain_name}: {len(found)} contract(s) of deployer {deployer} are already on chain "
                 f"{chain_id}; deploying a second set as asked (--force-new-deployment)")
        return 0
    recovered = recover_from_chain(web3, deployer, artifacts, default_plan() if plan is None else plan,
                                   chain_id=chain_id, chain_name=chain_name, bridge=bridge or BridgeOptions(),
                                   wanted=set(found))
    unknown = sorted(set(found) - {d.address for d in recovered.values()})
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise DeploymentError(
            f"chain {chain_id} ({chain_name}) already holds {len(found)} contract(s) created by the deployer "
            f"{deployer}, but the deployment registry {registry.path} has no record of this chain and "
            f"{len(unknown)} of them ({shown}) could not be matched to this build"
            + (f" (recovered: {', '.join(sorted(recovered))})" if recovered else "")
            + ". Deploying now would create a second set at new addresses, and open orders, the KYC "
            f"sync and the bridge would still point at the first. Restore the registry (its previous "
            f"version is kept at {registry.backup_path}), or, to deploy a new set on purpose, run "
            "'chainright deploy --force-new-deployment'"
        )
    for deployment in recovered.values():
        registry.record(chain_id, deployment)
    progress(f"{chain_name}: the registry had no record of chain {chain_id}; recovered "
             f"{len(recovered)} deployment(s) from the chain: {', '.join(sorted(recovered))}")
    return len(recovered)


def deploy_to_chains(
    settings: ChainSettings,
    specs: Sequence[ChainSpec],
    *,
    force: bool = False,
    force_new_deployment: bool | None = None,
    progress: Progress = quiet,
) -> dict[str, list[DeployResult]]:
    """Compile, then deploy (or reuse) every family on each chain, connecting through ape.

    The same path serves ``chainright deploy`` and ``ape run deploy``. A chain that holds our
    contracts while the registry knows nothing of it is recovered or refused (``guard_against_fork``)
    unless ``force_new_deployment``; its default (None) is False, except in the ``test`` environment,
    whose session chains are shared by many throwaway registries by design.
    """
    if force_new_deployment is None:
        force_new_deployment = settings.environment == "test"
    from eth_account import Account

    from chain.artifacts import compile_project
    from chain.connection import ape_connection

    progress("compiling contracts/ ...")
    artifacts = compile_project()
    registry = DeploymentRegistry(settings.deployments_file)
    account = Account.from_key(settings.deployer_key.get_secret_value())
    decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
    bridge = BridgeOptions.from_settings(settings)
    out: dict[str, list[DeployResult]] = {}
    for spec in specs:
        progress(f"{spec.name}: deploying through ape to chain {spec.chain_id} at {spec.rpc_url}")
        with ape_connection(spec) as provider:
            sender = TxSender(provider.web3, account, decoder=decoder,
                              timeout_s=settings.tx_timeout_s)
            guard_against_fork(sender, artifacts, registry, chain_name=spec.name, bridge=bridge,
                               force_new_deployment=force_new_deployment, progress=progress)
            out[spec.name] = deploy_all(sender, artifacts, registry, chain_name=spec.name,
                                        force=force, progress=progress, bridge=bridge)
    chain_ids: dict[str, int] = {s.name: int(s.chain_id) for s in settings.specs("all")}
    for spec in specs:
        with ape_connection(spec) as provider:
            sender = TxSender(provider.web3, account, decoder=decoder,
                              timeout_s=settings.tx_timeout_s)
            link_all(sender, artifacts, registry, chain_name=spec.name, chain_ids=chain_ids,
                     progress=progress)
    return out
