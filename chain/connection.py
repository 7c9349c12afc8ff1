"""Reach a chain: directly with web3 (services) or through ape's networks (deploys, scripts).

Ape networks used:
- a managed local anvil: ``ethereum:local:foundry`` (ape-foundry) pointed at our own anvil,
  never one ape-foundry starts itself (that one always has chain id 31337);
- an external endpoint with the chain id ape-config.yaml declares for its name:
  ``chainright:<name>:node`` with the configured URL;
- an external endpoint with another chain id (the consortium network, 1337): ape's ad-hoc
  network for the URL (ape refuses a ``chainright:<name>:node`` whose node reports another chain
  id than the one declared in ape-config.yaml).
Ape's own proof-of-authority detection misses Clique headers with web3 7 (it expects another
exception type), so ``ape_connection`` adds the extraData middleware itself, as ``connect`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from chain.errors import ChainIdMismatchError, ChainUnavailableError
from chain.rpc import chain_id_of
from chain.settings import PROJECT_ROOT, ChainSpec
from chain.toolchain import ensure_toolchain_env


def check_endpoint(spec: ChainSpec, *, timeout: float = 2.0) -> None:
    """Raise unless ``spec.rpc_url`` answers with ``spec.chain_id``."""
    try:
        got = chain_id_of(spec.rpc_url, timeout=timeout)
    except ChainUnavailableError as exc:
        hint = "start it with 'chainright node up'" if spec.managed else "check the node and URL"
        raise ChainUnavailableError(
            f"the '{spec.name}' chain does not answer at {spec.rpc_url}; {hint}"
        ) from exc
    if got != spec.chain_id:
        raise ChainIdMismatchError(
            f"{spec.rpc_url} is chain {got}, but '{spec.name}' is configured as chain "
            f"{spec.chain_id}; fix CHAINRIGHT_CHAIN_{spec.name.upper()}_RPC_URL or _CHAIN_ID"
        )


def connect(spec: ChainSpec, *, timeout: float = 10.0) -> Web3:
    """A web3 connection to ``spec``, its chain id checked, PoA headers handled."""
    check_endpoint(spec)
    web3 = Web3(Web3.HTTPProvider(spec.rpc_url, request_kwargs={"timeout": timeout}))
    if spec.poa or _has_poa_extradata(web3):
        web3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return web3


def _has_poa_extradata(web3: Web3) -> bool:
    raw = web3.provider.make_request("eth_getBlockByNumber", ["0x0", False])  # type: ignore[arg-type]
    extra = ((raw.get("result") or {}).get("extraData") or "0x")
    return len(extra) > 2 + 64  # more than 32 bytes: vanity + seal / validator list


def _ape_config_chain_ids() -> dict[str, int]:
    """Chain ids of the ``chainright`` custom networks declared in ape-config.yaml."""
    import yaml

    try:
        config = yaml.safe_load((PROJECT_ROOT / "ape-config.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    custom = (config.get("networks") or {}).get("custom") or []
    return {str(n["name"]): int(n["chain_id"]) for n in custom
            if n.get("ecosystem") == "chainright" and "chain_id" in n}


def ape_network_choice(spec: ChainSpec) -> tuple[str, dict[str, Any]]:
    """The ape network choice and provider settings that reach ``spec``."""
    if spec.managed:
        return "ethereum:local:foundry", {"host": spec.rpc_url, "manage_process": False}
    if _ape_config_chain_ids().get(spec.name) == spec.chain_id:
        return f"chainright:{spec.name}:node", {"uri": spec.rpc_url}
    return spec.rpc_url, {}


@contextmanager
def ape_connection(spec: ChainSpec) -> Iterator[Any]:
    """Connect ape to ``spec`` for the duration of the block; yields ape's provider."""
    check_endpoint(spec)
    ensure_toolchain_env()
    from ape import networks
    from ape.logging import logger as ape_logger

    ape_logger.set_level("WARNING")
    choice, provider_settings = ape_network_choice(spec)
    with networks.parse_network_choice(choice, provider_settings=provider_settings) as provider:
        web3 = provider.web3
        if (spec.poa or _has_poa_extradata(web3)) \
                and ExtraDataToPOAMiddleware not in web3.middleware_onion:
            web3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        yield provider
