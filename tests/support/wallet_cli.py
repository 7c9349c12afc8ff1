"""The wallet CLI's harness: the API served on the session's anvils, and `chainright` run as a user
runs it (its own process, the chains and a passphrase in its environment)."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from chain.settings import ChainSettings
from tests.conftest import free_port, settings_env

PASSPHRASE = "correct horse"


def wallet_env(settings: ChainSettings, *, passphrase: str = PASSPHRASE, key: Any = None) -> dict[str, str]:
    """The environment a `chainright` process needs to see ``settings``' chains and unlock wallets;
    with ``key`` (an account's private key), `wallet import` takes it from CHAINRIGHT_WALLET_KEY."""
    env = settings_env(settings) | {"CHAINRIGHT_WALLET_PASSPHRASE": passphrase}
    if key is not None:
        env["CHAINRIGHT_WALLET_KEY"] = "0x" + bytes(key).hex()
    return env


def run_cli(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`chainright ARGS` as its own process (the installed console script), output captured."""
    return subprocess.run(["chainright", *args], env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)


@contextmanager
def serve_api(chains: ChainSettings, database: Any, data_dir: Path,
              before_serving: Callable[[Any], None] | None = None) -> Iterator[str]:
    """Deploy onto ``chains`` and serve the API (test environment, the test KYC officer granted) with
    uvicorn on a free loopback port; yields its URL. ``before_serving(app)`` runs first (e.g. to pass
    KYC for some accounts through a TestClient)."""
    from api import create_app
    from api.settings import ApiSettings
    from chain.deploy import deploy_to_chains
    from did.settings import DidSettings
    from tests.support.api_flow import officer_grants

    deploy_to_chains(chains, chains.specs("all"))
    port = free_port()
    settings = ApiSettings(environment="test", data_dir=data_dir, siwe_domain=f"127.0.0.1:{port}",
                           siwe_uri=f"http://127.0.0.1:{port}", role_grants=officer_grants(), port=port)
    app = create_app(settings, db=database, chain_settings=chains, did_settings=DidSettings(environment="test"))
    if before_serving is not None:
        before_serving(app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
