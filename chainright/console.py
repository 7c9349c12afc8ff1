"""What every command module shares: messages, settings loaders, wallets, ETH amounts, shared options.

The command modules (``chainright/commands/``) and the root (``chainright/cli.py``) import this; it
imports none of them, so the console has no import cycle. Heavy packages (``api``, ``web3``, ape)
are imported inside the functions that need them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from chain.errors import ChainError
from chain.settings import ChainSettings, ChainSpec

if TYPE_CHECKING:  # the API package is heavy to import: only the commands that need it load it
    from api.settings import ApiSettings
    from bridge.settings import BridgeSettings
    from chain.wallet import Wallet

__all__ = [
    "ApiOpt",
    "ChainOpt",
    "EthAmountError",
    "JsonOpt",
    "LoggedIn",
    "WalletOpt",
    "amount",
    "anonymous",
    "api_errors",
    "api_settings",
    "bridge_settings",
    "chain_id_of",
    "chain_settings",
    "deploy_contracts",
    "dump_json",
    "load_wallet",
    "logged_in",
    "parse_address",
    "parse_eth",
    "parse_eth_option",
    "parse_when",
    "passphrase",
    "say",
    "session_client",
    "settings_details",
    "wait_for_stop_signal",
    "wallet_path",
]

# The options several command groups take, spelled once.
ChainOpt = Annotated[str, typer.Option("--chain", "-c", help="home, remote or all")]
WalletOpt = Annotated[str, typer.Option("--wallet", help="Wallet name (keystore in <data>/wallets).")]


def _api_url(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    """``--api`` when given; else ``CHAINRIGHT_API_URL``; else the API that `up` serves at
    ``CHAINRIGHT_API_PORT`` (so a platform started on other ports is found without ``--api``)."""
    source = ctx.get_parameter_source(param.name) if param.name else None
    if getattr(source, "name", None) != "DEFAULT":  # typer carries its own click: compare by name
        return value
    url = os.environ.get("CHAINRIGHT_API_URL", "").strip()
    if url:
        return url.rstrip("/")
    port = os.environ.get("CHAINRIGHT_API_PORT", "").strip()
    return f"http://127.0.0.1:{port}" if port else value


ApiOpt = Annotated[str, typer.Option(
    "--api", callback=_api_url,
    help="The API's base URL (default: CHAINRIGHT_API_URL, else 127.0.0.1 at CHAINRIGHT_API_PORT, 8000).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]


# -------------------------------------------------------------------------------------- messages


def say(message: str) -> None:
    """A progress or status line for the person at the terminal: stderr (stdout stays for data)."""
    from chainright.logs import json_logs

    if json_logs():  # CHAINRIGHT_LOG_FORMAT=json: console messages are log lines too
        console = logging.getLogger("chainright.console")
        console.setLevel(logging.INFO)
        console.info(message)
        return
    typer.echo(message, err=True)


def dump_json(value: Any) -> None:
    """The one way read commands print ``--json``: one JSON document on stdout."""
    typer.echo(json.dumps(value, indent=2, default=str))


@contextmanager
def api_errors() -> Iterator[None]:
    """An API client's error becomes a ``ChainError``: one ``error:`` line from the root, exit 1."""
    from api.errors import ApiError

    try:
        yield
    except ApiError as exc:
        raise ChainError(str(exc)) from None


@contextmanager
def wait_for_stop_signal() -> Iterator[threading.Event]:
    """Turn SIGINT / SIGTERM into an event the caller waits on."""
    stop = threading.Event()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, _frame: object) -> None:
        stop.set()

    for s in previous:
        signal.signal(s, handler)
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


# -------------------------------------------------------------------------------------- settings


def settings_details(exc: ValidationError) -> str:
    """A settings validation failure as one line: ``field: problem; field: problem``."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors())


def chain_settings() -> ChainSettings:
    """``CHAINRIGHT_CHAIN_*``, or a ``ChainError`` naming every bad value."""
    try:
        return ChainSettings()
    except ValidationError as exc:
        raise ChainError(f"invalid chain settings (CHAINRIGHT_CHAIN_*): {settings_details(exc)}") from None


def api_settings() -> ApiSettings:
    """``CHAINRIGHT_API_*``, or a ``ChainError`` naming every bad value."""
    from api.settings import ApiSettings

    try:
        return ApiSettings()
    except ValidationError as exc:
        raise ChainError(f"invalid API settings (CHAINRIGHT_API_*): {settings_details(exc)}") from None


def bridge_settings() -> BridgeSettings:
    """``CHAINRIGHT_BRIDGE_*``, or a ``BridgeError`` naming every bad value."""
    from bridge.errors import BridgeError
    from bridge.settings import BridgeSettings

    try:
        return BridgeSettings()
    except ValidationError as exc:
        raise BridgeError(f"invalid bridge settings (CHAINRIGHT_BRIDGE_*): {settings_details(exc)}") from None


# -------------------------------------------------------------------------------------- amounts


class EthAmountError(ChainError):
    """Raised when an amount of ETH typed by the user is not a positive number."""


def parse_eth(text: str) -> int:
    """An amount of ETH as typed (``10``, ``0.5``, ``1e-3``) -> wei; ``EthAmountError`` when it is not
    a finite number or not positive (less than one wei counts as not positive)."""
    try:
        amount = Decimal(text)
        if not amount.is_finite():  # NaN, Infinity: Decimal reads them, int() would not
            raise InvalidOperation
        wei = int(amount * 10**18)
    except ArithmeticError:  # not a number, or beyond Decimal's range (decimal.Overflow)
        raise EthAmountError(f"{text!r} is not a number of ETH") from None
    if wei <= 0:
        raise EthAmountError("must be positive")
    return wei


# -------------------------------------------------------------------------------------- wallets


def wallet_path(name: str) -> Path:
    """Where the named wallet's keystore lives (``<data>/wallets/<name>.json``)."""
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ChainError(f"wallet name {name!r}: use letters, digits, - and _")
    return chain_settings().data_dir / "wallets" / f"{name}.json"


def passphrase(confirm: bool = False) -> str:
    """The keystore passphrase: ``CHAINRIGHT_WALLET_PASSPHRASE``, else asked at the terminal."""
    value = os.environ.get("CHAINRIGHT_WALLET_PASSPHRASE")
    if value:
        return value
    if not sys.stdin.isatty():
        raise ChainError("no passphrase: set CHAINRIGHT_WALLET_PASSPHRASE or run in a terminal")
    return str(typer.prompt("wallet passphrase", hide_input=True, confirmation_prompt=confirm))


def load_wallet(name: str) -> Wallet:
    """The named wallet, unlocked with its passphrase."""
    from chain.wallet import Wallet

    return Wallet.load(wallet_path(name), passphrase())


def session_client(api: str, wallet_name: str) -> Any:
    """A client acting with the session 'chainright login' stored (no wallet or passphrase needed)."""
    from api.client import ChainrightClient
    from chainright.session import load_session, session_path

    session = load_session(session_path(chain_settings().data_dir, wallet_name), api)
    client = ChainrightClient(api, None, 0)
    client.token = session.token
    return client


# -------------------------------------------------------------------------------------- deploys


def deploy_contracts(specs: list[ChainSpec], settings: ChainSettings, *, force: bool,
                     force_new_deployment: bool | None = None) -> dict[str, dict[str, str]]:
    """Deploy (or reuse) every contract on ``specs``, progress on stderr; chain name -> contract -> address.
    Shared by ``chainright deploy`` and ``chainright up``."""
    from chain.deploy import deploy_to_chains

    results = deploy_to_chains(settings, specs, force=force, force_new_deployment=force_new_deployment,
                               progress=say)
    return {name: {r.deployment.contract: r.deployment.address for r in rs}
            for name, rs in results.items()}


# -------------------------------------------------------------------------------------- trading sessions


def parse_address(text: str, option: str) -> str:
    """A 0x-prefixed 20-byte address as typed -> its checksummed form; a usage error naming
    ``option`` otherwise (e.g. a placeholder such as COLLECTION pasted from a page)."""
    from web3 import Web3

    raw = text.strip()
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", raw):
        raise typer.BadParameter(f"{text!r} is not an address (0x and 40 hex digits)",
                                 param_hint=f"'{option}'")
    return str(Web3.to_checksum_address(raw))


def parse_eth_option(text: str, option: str) -> int:
    """'0.5' (ETH) or '500wei' -> wei (``chainright.console.parse_eth`` reads the ETH); a usage error
    naming ``option`` otherwise."""
    raw = text.strip().lower()
    try:
        if raw.endswith("wei"):
            wei = int(raw.removesuffix("wei"))
            if wei <= 0:
                raise EthAmountError("must be positive")
            return wei
        return parse_eth(raw.removesuffix("eth"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an amount of ETH (e.g. 0.5, or 500wei)",
                                 param_hint=f"'{option}'") from None
    except EthAmountError as exc:
        raise typer.BadParameter(f"{exc} (e.g. 0.5, or 500wei)", param_hint=f"'{option}'") from None


def license_fee_wei(text: str, option: str = "--license-fee") -> int:
    """A license fee as typed: ``0`` (free), ETH (``0.01``) or wei (``1000wei``), as every other
    amount of the console; a usage error naming ``option`` otherwise."""
    if text.strip().lower() in ("0", "0eth", "0wei", "0.0"):
        return 0
    return parse_eth_option(text, option)


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


# -------------------------------------------------------------------------------------- operator sessions


def amount(value: dict[str, str]) -> str:
    """An API amount (``{"eth", "wei"}``) as the console prints every amount."""
    from chain.formatting import format_wei

    return format_wei(int(value["wei"]))


def chain_id_of(chain: str) -> int:
    """``home``/``remote`` (or a chain id) -> the chain id; a usage error names ``--chain``."""
    settings = chain_settings()
    if chain in ("home", "remote"):
        return int(settings.spec(chain).chain_id)  # type: ignore[arg-type]
    if chain.isdigit() and any(s.chain_id == int(chain) for s in settings.specs("all")):
        return int(chain)
    raise typer.BadParameter(f"{chain!r} is not a chain here: use home or remote", param_hint="'--chain'")


class LoggedIn:
    """An API client logged in with the wallet, and the wallet that signs what the API returns.
    For a read (``logged_in(login=False)``) the wallet is unlocked only if the command signs after
    all, and its address is read from the keystore without the passphrase."""

    def __init__(self, client: Any, wallet_name: str, chain: str, spec: Any, wallet: Any = None) -> None:
        self.client = client
        self.chain = chain
        self.spec = spec
        """The chain the command acts on (``--chain``); the client's requests name its chain id."""
        self._wallet_name = wallet_name
        self._wallet = wallet

    @property
    def wallet(self) -> Any:
        if self._wallet is None:
            self._wallet = load_wallet(self._wallet_name)
        return self._wallet

    @property
    def address(self) -> str:
        if self._wallet is not None:
            return str(self._wallet.address)
        from chain.wallet import Wallet

        return Wallet.address_at(wallet_path(self._wallet_name))

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
    """The wallet logged in to the API, acting on ``chain``; API problems become one ``error:`` line
    (a transaction that would revert is refused with the revert's sentence). The sign-in names the
    home chain whatever ``chain`` is: one identity per wallet, so a wallet with KYC is the same user
    on every chain the platform serves."""
    from api.client import ChainrightClient
    from api.errors import ApiError

    if chain not in ("home", "remote"):
        raise typer.BadParameter(f"{chain!r}: choose home or remote", param_hint="'--chain'")
    settings = chain_settings()
    spec = settings.spec(chain)  # type: ignore[arg-type]
    wallet = load_wallet(wallet_name) if login else None  # a read needs no passphrase
    client = ChainrightClient(api, wallet, int(spec.chain_id))
    try:
        if login:
            client.login(chain_id=int(settings.spec("home").chain_id))
        yield LoggedIn(client, wallet_name, chain, spec, wallet)
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
