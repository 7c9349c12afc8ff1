"""``chainright wallet new|import|address|fund``: a local wallet whose keys stay in an encrypted keystore."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from chain.errors import ChainError
from chainright.console import (
    ChainOpt,
    EthAmountError,
    WalletOpt,
    chain_settings,
    dump_json,
    parse_eth,
    passphrase,
    say,
    wallet_path,
)

if TYPE_CHECKING:
    from eth_typing import ChecksumAddress

app = typer.Typer(no_args_is_help=True, help="A local wallet that signs for you (keys stay here).")


def _keystore_address(path: Path) -> ChecksumAddress:
    """The checksummed address a keystore holds (read without the passphrase), as `wallet new` printed it."""
    import json

    from web3 import Web3

    try:
        address = json.loads(path.read_text())["address"]
    except FileNotFoundError:
        raise ChainError(f"no wallet at {path}; create one with 'chainright wallet new'") from None
    return Web3.to_checksum_address("0x" + address.removeprefix("0x"))


@app.command("new")
def wallet_new(name: WalletOpt = "default") -> None:
    """Create a wallet (a new key in an encrypted keystore); prints its address."""
    from chain.wallet import Wallet

    wallet = Wallet.create()
    wallet.save(wallet_path(name), passphrase(confirm=True))
    typer.echo(wallet.address)


@app.command("import")
def wallet_import(
    name: WalletOpt = "default",
    key_env: Annotated[str, typer.Option(
        help="Environment variable holding the key (never taken on the command line).")
    ] = "CHAINRIGHT_WALLET_KEY",
) -> None:
    """Import an existing private key from an environment variable into an encrypted keystore."""
    from chain.wallet import Wallet

    key = os.environ.get(key_env)
    if not key:
        raise ChainError(f"set {key_env} to the private key to import")
    wallet = Wallet.from_key(key)
    wallet.save(wallet_path(name), passphrase(confirm=True))
    typer.echo(wallet.address)


@app.command("address")
def wallet_address(
    name: WalletOpt = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")
                       ] = False,
) -> None:
    """Print the wallet's address (and where its keystore is)."""
    path = wallet_path(name)
    checksummed = _keystore_address(path)
    if as_json:
        dump_json({"wallet": name, "address": checksummed, "keystore": str(path)})
        return
    typer.echo(checksummed)
    say(f"keystore: {path}")


@app.command("fund")
def wallet_fund(
    amount: Annotated[str, typer.Option(help="ETH to send, e.g. 10 or 0.5.")] = "10",
    chain: ChainOpt = "home",
    wallet_name: WalletOpt = "default",
) -> None:
    """Development chains only: send ETH from an anvil development account to the wallet."""
    from chain.connection import connect
    from chain.faucet import fund, funding_refusal
    from chain.formatting import format_wei

    try:
        wei = parse_eth(amount)
    except EthAmountError as exc:  # a usage mistake: click's message naming the option, exit 2
        raise typer.BadParameter(str(exc), param_hint="'--amount'") from None
    settings = chain_settings()
    spec = settings.spec(chain)  # type: ignore[arg-type]
    address = _keystore_address(wallet_path(wallet_name))
    web3 = connect(spec)
    chain_id = int(web3.eth.chain_id)  # what the node says, not what the settings claim
    consortium_id: int | None = None
    try:
        from devnet.consortium import ConsortiumSettings

        consortium_id = ConsortiumSettings().chain_id
    except ValidationError:
        pass
    refusal = funding_refusal(settings.environment, chain_id, consortium_id)
    if refusal:
        raise ChainError(f"'wallet fund' refused: {refusal}. Fund {address} from an account of your own")
    receipt = fund(web3, address, wei)
    typer.echo("0x" + bytes(receipt["transactionHash"]).hex())
    say(f"sent {format_wei(wei)} to {address} on {spec.name} (chain {chain_id}); balance now "
        f"{format_wei(int(web3.eth.get_balance(address)))}")
