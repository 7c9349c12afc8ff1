"""Console plumbing the trading commands share: a logged-in API client with the wallet beside it,
sending the API's unsigned transactions, and reading amounts (ETH) and dates (ISO 8601 or +2h)."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from chain.errors import ChainError

__all__ = [
    "ApiOpt",
    "ChainOpt",
    "JsonOpt",
    "Session",
    "WalletOpt",
    "dump_json",
    "parse_eth",
    "parse_when",
    "say",
    "session",
]

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


def parse_eth(text: str, option: str) -> int:
    """'0.5' (ETH) or '500wei' -> wei; a usage error naming ``option`` otherwise."""
    raw = text.strip().lower()
    try:
        wei = (
            int(raw.removesuffix("wei"))
            if raw.endswith("wei")
            else int(Decimal(raw.removesuffix("eth")) * 10**18)
        )
    except (InvalidOperation, ValueError):
        raise typer.BadParameter(
            f"{text!r} is not an amount of ETH (e.g. 0.5, or 500wei)", param_hint=f"'{option}'"
        ) from None
    if wei <= 0:
        raise typer.BadParameter("must be positive", param_hint=f"'{option}'")
    return wei


_RELATIVE = re.compile(r"^\+(\d+(?:\.\d+)?)([smhd])$")


def parse_when(text: str, option: str) -> str:
    """An ISO 8601 date, or '+30m', '+2h', '+3d' from now -> ISO 8601 UTC."""
    match = _RELATIVE.match(text.strip())
    if match:
        seconds = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86_400}[match.group(2)]
        when = datetime.now(UTC) + timedelta(seconds=seconds)
    else:
        try:
            when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise typer.BadParameter(
                f"{text!r} is not a date: give ISO 8601 (2026-12-31T18:00:00Z) or +30m, +2h, +3d",
                param_hint=f"'{option}'",
            ) from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class Session:
    """A logged-in client of the API and the wallet that signs what it returns."""

    client: Any
    wallet: Any
    spec: Any

    @property
    def address(self) -> str:
        return str(self.wallet.address)

    def send(self, tx: dict[str, Any], what: str) -> Any:
        """Sign and send one of the API's unsigned transactions; prints its hash (stdout)."""
        from chain.connection import connect

        receipt = self.wallet.send(connect(self.spec), tx)
        typer.echo("0x" + bytes(receipt["transactionHash"]).hex())
        say(f"{what}: block {receipt['blockNumber']}, gas {receipt['gasUsed']}")
        return receipt


def _chain_settings() -> Any:
    from pydantic import ValidationError

    from chain.settings import ChainSettings

    try:
        return ChainSettings()
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ChainError(f"invalid chain settings (CHAINRIGHT_CHAIN_*): {details}") from None


def _wallet(name: str) -> Any:
    from chain.wallet import Wallet

    if not name.replace("-", "").replace("_", "").isalnum():
        raise ChainError(f"wallet name {name!r}: use letters, digits, - and _")
    passphrase = os.environ.get("CHAINRIGHT_WALLET_PASSPHRASE")
    if not passphrase:
        if not sys.stdin.isatty():
            raise ChainError("no passphrase: set CHAINRIGHT_WALLET_PASSPHRASE or run in a terminal")
        passphrase = str(typer.prompt("wallet passphrase", hide_input=True))
    return Wallet.load(_chain_settings().data_dir / "wallets" / f"{name}.json", passphrase)


@contextmanager
def session(api: str, wallet_name: str, chain: str, *, login: bool = True) -> Iterator[Session]:
    """The wallet, logged in to the API with SIWE (``login``), on ``chain``; API problems become one
    ``error:`` line (their detail is the revert's sentence when a transaction would revert)."""
    from api.client import ChainrightClient
    from api.errors import ApiError

    spec = _chain_settings().spec(chain)
    wallet = _wallet(wallet_name)
    client = ChainrightClient(api, wallet, spec.chain_id)
    try:
        if login:
            client.login()
        yield Session(client, wallet, spec)
    except ApiError as exc:
        raise ChainError(str(exc)) from None
    finally:
        client.close()
