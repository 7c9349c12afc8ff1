"""What the operator, income and bridge commands share: a wallet logged in to the API, and output.

A wallet logged in to the API (SIWE), its unsigned transactions signed and sent, the chain options,
and the one way a read prints ``--json``. Amounts print as ``1.5 ETH (1500000000000000000 wei)``
and dates as ISO 8601 (chain.formatting)."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from chain.errors import ChainError

__all__ = ["ApiOpt", "ChainOpt", "JsonOpt", "LoggedIn", "WalletOpt", "amount", "anonymous", "chain_id_of",
           "chain_settings", "dump_json", "logged_in", "say"]

WalletOpt = Annotated[str, typer.Option("--wallet", help="Wallet name (keystore in <data>/wallets).")]
ApiOpt = Annotated[str, typer.Option("--api", help="The API's base URL.")]
ChainOpt = Annotated[str, typer.Option("--chain", "-c", help="home or remote")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]


def say(message: str) -> None:
    """A message for the person (stderr; a log line under CHAINRIGHT_LOG_FORMAT=json)."""
    from chainright.logs import json_logs

    if json_logs():
        console = logging.getLogger("chainright.console")
        console.setLevel(logging.INFO)
        console.info(message)
        return
    typer.echo(message, err=True)


def dump_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def amount(value: dict[str, str]) -> str:
    """An API amount (``{"eth", "wei"}``) as the console prints every amount."""
    from chain.formatting import format_wei

    return format_wei(int(value["wei"]))


def chain_settings() -> Any:
    from pydantic import ValidationError

    from chain.settings import ChainSettings

    try:
        return ChainSettings()
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                            for e in exc.errors())
        raise ChainError(f"invalid chain settings (CHAINRIGHT_CHAIN_*): {details}") from None


def chain_id_of(chain: str) -> int:
    """``home``/``remote`` (or a chain id) -> the chain id; a usage error names ``--chain``."""
    settings = chain_settings()
    if chain in ("home", "remote"):
        return int(settings.spec(chain).chain_id)
    if chain.isdigit() and any(s.chain_id == int(chain) for s in settings.specs("all")):
        return int(chain)
    raise typer.BadParameter(f"{chain!r} is not a chain here: use home or remote", param_hint="'--chain'")


def _wallet(name: str) -> Any:
    from chain.wallet import Wallet

    if not name.replace("-", "").replace("_", "").isalnum():
        raise ChainError(f"wallet name {name!r}: use letters, digits, - and _")
    passphrase = os.environ.get("CHAINRIGHT_WALLET_PASSPHRASE")
    if not passphrase:
        if not sys.stdin.isatty():
            raise ChainError("no passphrase: set CHAINRIGHT_WALLET_PASSPHRASE or run in a terminal")
        passphrase = str(typer.prompt("wallet passphrase", hide_input=True))
    return Wallet.load(chain_settings().data_dir / "wallets" / f"{name}.json", passphrase)


@dataclass
class LoggedIn:
    """An API client logged in with the wallet, and the wallet that signs what the API returns."""

    client: Any
    wallet: Any
    chain: str

    @property
    def address(self) -> str:
        return str(self.wallet.address)

    def send(self, tx: dict[str, Any], what: str) -> Any:
        """Sign and send one unsigned transaction of the API on its chain; its hash on stdout."""
        from chain.connection import connect

        settings = chain_settings()
        spec = next(s for s in settings.specs("all") if s.chain_id == int(tx["chain_id"]))
        receipt = self.wallet.send(connect(spec), tx)
        typer.echo("0x" + bytes(receipt["transactionHash"]).hex())
        say(f"{what}: block {receipt['blockNumber']}, gas {receipt['gasUsed']}")
        return receipt


@contextmanager
def logged_in(api: str, wallet_name: str, chain: str = "home", *, login: bool = True) -> Iterator[LoggedIn]:
    """The wallet logged in to the API (SIWE on ``chain``); API problems become one ``error:`` line
    (a transaction that would revert is refused with the revert's sentence)."""
    from api.client import ChainrightClient
    from api.errors import ApiError

    settings = chain_settings()
    wallet = _wallet(wallet_name)
    client = ChainrightClient(api, wallet, int(settings.spec("home").chain_id))  # one identity per wallet
    try:
        if login:
            client.login()
        yield LoggedIn(client, wallet, chain)
    except ApiError as exc:
        raise ChainError(str(exc)) from None
    finally:
        client.close()


@contextmanager
def anonymous(api: str) -> Iterator[Any]:
    """A client for the API's public reads."""
    from api.client import ChainrightClient
    from api.errors import ApiError

    client = ChainrightClient(api, None, 0)
    try:
        yield client
    except ApiError as exc:
        raise ChainError(str(exc)) from None
    finally:
        client.close()
